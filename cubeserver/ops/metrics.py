"""Prometheus metrics at `/metrics` (prometheus-client): requests, latency, bytes out, jobs by state,
dask computations, tasks and workers (cubeserver.ops.dask_metrics).

Labels use the route *template* (`/collections/{collectionId}/position`), never the raw path,
so a crawler cannot blow up the number of series; unmatched paths share one label. Each app
has its own `CollectorRegistry` (several apps per process in tests). Request series are per
server process (scrape each, or run one worker per pod); job counts come from the shared job
store, so every process reports the same numbers.
"""

from __future__ import annotations

import time

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.core import GaugeMetricFamily

from ..negotiate import choose
from ..processes.store import STATUSES
from .dask_metrics import DaskCollector, install_local_counter

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """The server's series in one registry: `observe(...)` is called once per answered request."""

    def __init__(self, ctx):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("cubeserver_requests_total", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("cubeserver_request_duration_seconds", "time to the last byte of the answer",
                                 ["method", "route"], buckets=BUCKETS, registry=self.registry)
        self.bytes_out = Counter("cubeserver_response_bytes_total", "body bytes sent (after compression)",
                                 ["route"], registry=self.registry)
        self.registry.register(_JobsCollector(ctx))
        install_local_counter()
        self.registry.register(DaskCollector(ctx))

    def observe(self, method: str, route: str, status: int, seconds: float, nbytes: int) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
        self.bytes_out.labels(route).inc(nbytes)


class _JobsCollector:
    """`cubeserver_jobs{status=...}` read from the job store at scrape time."""

    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self):
        return []

    def collect(self):
        jobs = self.ctx.services.get("jobs")
        if jobs is None:
            return
        family = GaugeMetricFamily("cubeserver_jobs", "jobs in the job store by status", labels=["status"])
        try:
            for status in STATUSES:
                family.add_metric([status], jobs.store.list(status=[status], limit=1)[1])
        except Exception:  # an unreachable store must not break the scrape; /ready reports it
            return
        yield family


class MetricsMiddleware:
    """Pure ASGI: times each HTTP request to its last body byte and counts its bytes."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        state = {"status": 500, "bytes": 0}

        async def counting_send(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope["method"], route, state["status"], time.perf_counter() - start, state["bytes"])


def install(app, ctx) -> None:
    metrics = Metrics(ctx)
    ctx.services["metrics"] = metrics

    @app.get("/metrics", tags=["Operations"], summary="Prometheus metrics (text exposition format 0.0.4)")
    def prometheus_metrics(request: Request):
        """Text format 0.0.4, or OpenMetrics when the Accept header asks for it (as Prometheus does);
        an Accept that allows neither (e.g. only application/json) is a 406 like everywhere else."""
        accept = request.headers.get("accept", "")
        if "application/openmetrics-text" not in accept:
            choose(request, None, ["text"])
        encoder, content_type = choose_encoder(accept)
        return Response(encoder(metrics.registry), media_type=content_type)

    app.add_middleware(MetricsMiddleware, metrics=metrics)
