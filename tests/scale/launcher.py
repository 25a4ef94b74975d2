"""Run the real API server or ``synth worker`` in a subprocess with the test hashing embedder.

``python -m tests.scale.launcher serve PORT`` or ``python -m tests.scale.launcher worker
[ARGS…]``; settings come from the ``SYNTH_*`` environment as in production. Only the engine's
embedder is swapped (no model loads), exactly as ``tests/api/stack.py`` does in-process.
"""

from __future__ import annotations

import sys

import uvicorn

import api.app
import api.cli_common
from api.cli import app as cli_app
from synth.config import EngineConfig
from synth.engine import Engine, build_engine
from tests.conftest import HashingEmbedder


def hashing_engine(config: EngineConfig) -> Engine:
    engine = build_engine(config)
    engine.__dict__["embedder"] = HashingEmbedder()
    return engine


def main(argv: list[str]) -> None:
    api.app.build_engine = hashing_engine  # type: ignore[attr-defined]
    api.cli_common.build_engine = hashing_engine  # type: ignore[attr-defined]
    command, *rest = argv
    if command == "serve":
        uvicorn.run(api.app.create_app(), host="127.0.0.1", port=int(rest[0]), log_level="warning")
    elif command == "worker":
        cli_app(["worker", *rest], prog_name="synth")
    else:
        raise SystemExit(f"unknown command {command!r}: serve PORT | worker [ARGS…]")


if __name__ == "__main__":
    main(sys.argv[1:])
