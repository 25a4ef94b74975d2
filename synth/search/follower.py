"""A daemon thread that follows the store's change feed, so searches rarely pay for a refresh.

An API process starts one per engine: every ``refresh_seconds`` it calls the engine's
refresh (:meth:`synth.engine.Engine.indexes_for_search`), which checks the store's
signature and applies other processes' writes. Searches then find the indexes already
current; one that comes due first refreshes itself, and the others keep reading the
indexes in hand meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["IndexFollower"]

logger = logging.getLogger(__name__)


class IndexFollower:
    """Call ``refresh`` every ``interval_s`` seconds in a daemon thread until stopped."""

    def __init__(self, refresh: Callable[[], object], interval_s: float) -> None:
        self._refresh = refresh
        self._interval = interval_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start following (nothing to do when the interval is 0: every search refreshes)."""
        if self._interval > 0 and self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._follow, name="synth-index-follower", daemon=True
            )
            self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop after the refresh in hand."""
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(timeout_s)
            self._thread = None

    def _follow(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self._refresh()
            except Exception:
                logger.warning("index refresh from the change feed failed", exc_info=True)
