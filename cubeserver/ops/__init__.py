"""Operations: liveness/readiness probes, Prometheus metrics and security headers (issue 13, point 6).

`install(app, ctx)` adds `/health`, `/ready` and `/metrics` and the middleware that measures
every request and sets the security headers. Installed after the standards, so its middleware
sits outside them and sees every answer, errors included.
"""

from __future__ import annotations

from . import headers, health, metrics
from .access_log import AccessLogMiddleware


def install(app, ctx) -> None:
    health.install(app, ctx)
    metrics.install(app, ctx)
    headers.install(app, ctx)
    app.add_middleware(AccessLogMiddleware)  # outermost: sees every answer with its final status
