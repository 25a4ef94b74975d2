"""The topic refit as a background job (``POST /api/v1/topics/fit``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synth.engine import Engine
from synth.services.jobs import JobProgress
from synth.services.topics import fit_topic_run

__all__ = ["TOPIC_FIT_JOB", "run_topic_fit"]

TOPIC_FIT_JOB = "topics.fit"


def run_topic_fit(
    engine: Engine, _params: Mapping[str, Any], progress: JobProgress
) -> dict[str, Any]:
    """Refit topics on every stored passage; the job's result is the run report."""
    report = fit_topic_run(
        engine.sessions, engine.embedder, engine.config.topics, engine.data_dir, progress
    )
    return report.to_dict()
