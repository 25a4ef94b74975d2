"""A helper thread for a hybrid search's BM25 query, run while the query is being embedded.

The BM25 query needs neither the query vector nor the dense hits, and onnxruntime and FAISS
release Python's lock, so a search alone in its process can use a core that would otherwise
wait (``SearchConfig.overlap``). While other searches run the cores are busy already and the
hand-over would only cost CPU (~0.5 ms a search, -10 % throughput at saturation: see
docs/benchmarks.md), so :func:`alone` tells the caller when to use it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

__all__ = ["alone", "submit"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="synth-bm25")


_helpers = _pool()
_running = 0  # searches in progress in this process
_running_lock = threading.Lock()


def _after_fork() -> None:
    """Give a forked child its own helpers: the parent's threads do not exist there."""
    global _helpers, _running, _running_lock
    _helpers, _running, _running_lock = _pool(), 0, threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


@contextmanager
def alone() -> Iterator[bool]:
    """Count a search as running while in the block; yield whether it is the only one."""
    global _running
    with _running_lock:
        _running += 1
        only = _running == 1
    try:
        yield only
    finally:
        with _running_lock:
            _running -= 1


def submit(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
    """Run ``fn(*args, **kwargs)`` on a helper thread."""
    return _helpers.submit(fn, *args, **kwargs)
