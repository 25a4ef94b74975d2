"""Start the crash worker as a subprocess, watch what it reports, and SIGKILL it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    """A running crash worker and the lines it has printed so far."""

    process: subprocess.Popen[str]
    log: IO[str]
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    reader: threading.Thread | None = None

    def pump(self) -> None:
        """Collect stdout lines until the process ends (run in a thread)."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())
            if line.strip() == "ready":
                self.ready.set()
        self.ready.set()

    def wait_for(self, line: str, timeout_s: float = 300.0) -> bool:
        """Wait until the worker prints ``line`` (False if it ends or times out first)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if line in self.lines:
                return True
            if self.process.poll() is not None:
                return line in self.lines
            time.sleep(0.01)
        return False

    def wait_committed(self, count: int, timeout_s: float = 300.0) -> None:
        """Wait until the worker has reported ``count`` commits (or has ended)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.process.poll() is None:
            if sum(line.startswith("committed ") for line in self.lines) >= count:
                return
            time.sleep(0.005)

    def committed(self) -> set[str]:
        """Source ids the worker reported as committed."""
        return {line.split(" ", 1)[1] for line in self.lines if line.startswith("committed ")}


def start_worker(args: list[str], tmp_path: Path, *, wait: bool = True) -> Worker:
    """Start ``crash_worker`` with ``args``; return once it says it is ready (or at once)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    log = (tmp_path / f"worker-{time.monotonic_ns()}.err").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.crash_worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    worker = Worker(process, log)
    worker.reader = threading.Thread(target=worker.pump, daemon=True)
    worker.reader.start()
    if wait:
        assert worker.ready.wait(120), "worker did not start"
    return worker


def errors(worker: Worker) -> str:
    """What the worker wrote to stderr (call after it has ended)."""
    return Path(worker.log.name).read_text(encoding="utf-8", errors="replace")


def kill(worker: Worker) -> None:
    """SIGKILL the worker (if still running) and wait for its output to drain."""
    if worker.process.poll() is None:
        worker.process.send_signal(signal.SIGKILL)
    worker.process.wait(30)
    if worker.reader is not None:
        worker.reader.join(30)
    worker.log.close()
    assert worker.process.stdout is not None
    worker.process.stdout.close()
