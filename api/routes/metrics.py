"""``/metrics``: Prometheus text — request counts and latencies by route, index and job gauges."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models import Job
from synth.embedding import QueryCachingEmbedder
from synth.engine import Engine

__all__ = ["HttpMetrics", "router"]

router = APIRouter(tags=["health"])


class _StoreCollector(Collector):
    """Gauges read at scrape time: indexed passages, and jobs by state."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        engine = self._engine()
        if engine is None:
            return
        current = engine.search_indexes.current if "search_indexes" in engine.__dict__ else None
        passages = GaugeMetricFamily("synth_index_passages", "Passages in the loaded search index")
        passages.add_metric([], float(len(current.table)) if current is not None else 0.0)
        yield passages
        embedder = engine.__dict__.get("embedder")
        if isinstance(embedder, QueryCachingEmbedder):
            stats = embedder.stats()
            hits = CounterMetricFamily(
                "synth_query_cache_hits", "Search queries whose vector came from the cache"
            )
            hits.add_metric([], float(stats.hits))
            yield hits
            misses = CounterMetricFamily(
                "synth_query_cache_misses", "Search queries the embedding model had to encode"
            )
            misses.add_metric([], float(stats.misses))
            yield misses
            size = GaugeMetricFamily("synth_query_cache_entries", "Query vectors in the cache")
            size.add_metric([], float(stats.entries))
            yield size
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

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """ASGI middleware: count and time each request under its route template.

        Plain ASGI rather than ``@app.middleware("http")``: no task group and memory
        streams per request (measured: docs/benchmarks.md, HTTP API load). A request is
        timed until its response has been sent; its route is the template the router
        matched (never the raw path).
        """

        async def metered(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            start = time.perf_counter()
            status = 500

            async def send_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            try:
                await app(scope, receive, send_status)
            finally:
                route = getattr(scope.get("route"), "path", "unmatched")
                method = str(scope.get("method", "GET"))
                self.requests.labels(method, route, str(status)).inc()
                self.latency.labels(method, route).observe(time.perf_counter() - start)

        return metered


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
