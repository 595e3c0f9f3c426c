"""HTTP behaviour browsers and caches expect: CORS, compression (zstd/br/gzip), ETag/Last-Modified with 304, Cache-Control.

All pure ASGI middleware, installed last so it wraps every router. Order, outside in:
CORS (also answers preflight OPTIONS) -> request limits (URL 414, body 413, JSON bodies 415) -> HEAD-as-GET
-> conditional requests -> compression -> memory budget (503 over it) -> the app, so HEAD gets exactly GET's headers, and answers in different content codings carry different
ETags, as HTTP requires.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware

from ..budget import BudgetMiddleware, MemoryBudget
from .conditional import ConditionalMiddleware
from .compression import CompressionMiddleware
from .head import HeadMiddleware
from .limits import RequestLimitsMiddleware

EXPOSED = ["ETag", "Last-Modified", "Cache-Control", "Content-Disposition", "Content-Encoding", "Location",
           "Link", "Preference-Applied", "Content-Crs", "Content-Bbox", "Content-Datetime", "Retry-After",
           "WWW-Authenticate"]


WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class SplitCORS:
    """Pure ASGI: reads (GET/HEAD) get CORS for `http.cors_origins`, writes (POST/DELETE: execute,
    dismiss) only for `http.cors_write_origins`, so a foreign page can show the data but cannot
    start or dismiss jobs with a visitor's credentials. Preflights are routed by the method they ask for."""

    def __init__(self, app, read_origins: list[str], write_origins: list[str]):
        common = {"allow_headers": ["*"], "expose_headers": EXPOSED, "max_age": 600}
        self.read = CORSMiddleware(app, allow_origins=read_origins, allow_methods=["GET", "HEAD", "OPTIONS"], **common)
        self.write = CORSMiddleware(app, allow_origins=write_origins,
                                    allow_methods=["GET", "HEAD", "POST", "DELETE", "OPTIONS"], **common)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.read(scope, receive, send)
        method = scope["method"]
        if method == "OPTIONS":
            method = dict(scope.get("headers") or ()).get(b"access-control-request-method", b"").decode("latin-1")
        await (self.write if method.upper() in WRITES else self.read)(scope, receive, send)


def install(app, ctx) -> None:
    cfg = ctx.config.http
    app.add_middleware(BudgetMiddleware, budget=MemoryBudget(ctx.config.limits.memory_budget()))
    app.add_middleware(CompressionMiddleware, min_size=cfg.gzip_min_size)  # each add goes outside the previous
    app.add_middleware(ConditionalMiddleware, ctx=ctx)
    app.add_middleware(HeadMiddleware)
    limits = ctx.config.limits  # inside CORS, so a browser can read the 413/414/415 it gets
    app.add_middleware(RequestLimitsMiddleware, max_url=limits.max_url_bytes, max_body=limits.max_body_bytes)
    app.add_middleware(SplitCORS, read_origins=cfg.cors_origins, write_origins=cfg.cors_write_origins)
