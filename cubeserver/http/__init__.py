"""HTTP behaviour browsers and caches expect: CORS, gzip, ETag/Last-Modified with 304, Cache-Control.

All pure ASGI middleware, installed last so it wraps every router. Order, outside in:
CORS (also answers preflight OPTIONS) -> HEAD-as-GET -> conditional requests -> gzip -> the app,
so HEAD gets exactly GET's headers, and a gzipped and a plain answer carry different
ETags, as HTTP requires.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware

from .conditional import ConditionalMiddleware
from .gzip import GzipMiddleware
from .head import HeadMiddleware

EXPOSED = ["ETag", "Last-Modified", "Cache-Control", "Content-Disposition", "Content-Encoding", "Location",
           "Link", "Preference-Applied", "Content-Crs"]


def install(app, ctx) -> None:
    cfg = ctx.config.http
    app.add_middleware(GzipMiddleware, min_size=cfg.gzip_min_size)  # each add goes outside the previous
    app.add_middleware(ConditionalMiddleware, ctx=ctx)
    app.add_middleware(HeadMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=cfg.cors_origins,
        allow_methods=["GET", "HEAD", "POST", "DELETE", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=EXPOSED,
        max_age=600,
    )
