"""Start API servers and job workers as real subprocesses on one PostgreSQL store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text

from synth.config import RedactionConfig
from synth.engine import Engine
from synth.services.directory import load_directory
from synth.services.job_queue import apply_queue_schema
from synth.services.keys import create_key
from synth.types import DirectoryEntry

ROOT = Path(__file__).resolve().parents[2]
NO_NER = json.dumps(sorted(k.value for k in RedactionConfig().kinds if k.value != "person"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_store(engine: Engine) -> str:
    """A network, an organisation, the job queue's tables (emptied); return an admin token."""
    apply_queue_schema(engine.db)
    with engine.db.begin() as connection:
        connection.execute(text("TRUNCATE procrastinate.procrastinate_jobs CASCADE"))
    with engine.sessions.begin() as session:
        load_directory(
            session,
            networks=[DirectoryEntry("net-a", "Network A")],
            organisations=[DirectoryEntry("org-a", "Organisation A")],
            projects=[],
            memberships=[("org-a", "net-a")],
        )
        return create_key(session, name="admin", scopes=["admin"])[1]


def environment(url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTH_")}
    env.update(
        {
            "SYNTH_DATABASE_URL": url,
            "SYNTH_DATA_DIR": str(data_dir),
            "SYNTH_REDACTION__KINDS": NO_NER,
            "SYNTH_RATE_LIMIT_PER_MINUTE": "0",
            "SYNTH_OUTCOMES__METHOD": "cues",
            "PYTHONPATH": str(ROOT),
            **settings,
        }
    )
    return env


def launch(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.scale.launcher", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@dataclass
class Server:
    """One API process."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )


def wait_ready(server: Server, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited: {server.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.base}/ready", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server not ready: {server.log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextmanager
def servers(count: int, env: dict[str, str], logs: Path) -> Iterator[list[Server]]:
    """``count`` API processes on the store of ``env``, ready when yielded."""
    started: list[Server] = []
    try:
        for n in range(count):
            port = free_port()
            log = logs / f"server-{n}.log"
            started.append(
                Server(launch(["serve", str(port)], env, log), f"http://127.0.0.1:{port}", log)
            )
        for server in started:
            wait_ready(server)
        yield started
    finally:
        for server in started:
            stop(server.process)
