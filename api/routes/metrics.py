"""``/metrics``: Prometheus text — request counts and latencies by route, index and job gauges."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from models import Job
from synth.engine import Engine

__all__ = ["HttpMetrics", "router"]

router = APIRouter(tags=["health"])


class _StoreCollector(Collector):
    """Gauges read at scrape time: indexed passages, and jobs by state."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        engine = self._engine()
        if engine is None:
            return
        current = engine.search_indexes.current if "search_indexes" in engine.__dict__ else None
        passages = GaugeMetricFamily("synth_index_passages", "Passages in the loaded search index")
        passages.add_metric([], float(len(current.table)) if current is not None else 0.0)
        yield passages
        jobs = GaugeMetricFamily("synth_jobs", "Background jobs by state", labels=["state"])
        try:
            with engine.sessions() as session:
                rows = session.execute(select(Job.state, func.count()).group_by(Job.state)).all()
        except Exception:
            rows = []
        for state, count in rows:
            jobs.add_metric([state], float(count))
        yield jobs


class HttpMetrics:
    """The metrics of one app (its own registry, so several apps can live in one process)."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "synth_http_requests",
            "HTTP requests by route template, method and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "synth_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(engine))

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Count and time each request under its route template (never its raw path)."""
        start = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        self.requests.labels(request.method, route, str(response.status_code)).inc()
        self.latency.labels(request.method, route).observe(time.perf_counter() - start)
        return response


@router.get(
    "/metrics",
    operation_id="get_metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def get_metrics(request: Request) -> Response:
    """Prometheus text exposition of this process's metrics."""
    metrics: HttpMetrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
