"""Rich progress bars on stderr for long CLI jobs."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["RichProgress"]


class RichProgress:
    """A :class:`synth.ports.ProgressReporter` drawing a rich bar on stderr."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def start(self, total: int, description: str) -> None:
        """Begin a phase of ``total`` units."""
        self._task = self._progress.add_task(description, total=total)

    def advance(self, units: int = 1) -> None:
        """Record ``units`` more done."""
        if self._task is not None:
            self._progress.advance(self._task, units)
