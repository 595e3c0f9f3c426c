"""create_app(config) -> FastAPI: builds the registry and mounts each standard's router."""

from __future__ import annotations

import importlib

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from . import __version__
from . import openapi as oas
from .common import oas30
from .config import ServerConfig
from .context import AppContext, json_response
from .errors import install_handlers
from .negotiate import choose, media_type
from .registry import Registry


# Each standard lives in its own subpackage exposing `install(app, ctx)`; a missing one is skipped.
STANDARDS = ["cubeserver.common.install", "cubeserver.edr", "cubeserver.coverages", "cubeserver.maps", "cubeserver.features",
             "cubeserver.processes", "cubeserver.zarr", "cubeserver.tiles", "cubeserver.wms", "cubeserver.viewer",
             "cubeserver.mcp", "cubeserver.opendap", "cubeserver.live", "cubeserver.auth", "cubeserver.http", "cubeserver.ops"]


def create_app(config: ServerConfig, registry: Registry | None = None) -> FastAPI:
    registry = registry or Registry(config)
    ctx = AppContext(config=config, registry=registry)
    app = FastAPI(
        title=config.title,
        description=config.description,
        version=__version__,
        openapi_url="/openapi.json",
        docs_url=None,  # cubeserver.viewer serves /docs with its vendored Swagger UI (FastAPI's page uses a CDN)
        redoc_url=None,
    )
    app.state.ctx = ctx
    install_handlers(app)

    for name in STANDARDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and name.startswith(e.name):
                continue
            raise
        install = getattr(module, "install", None)
        if install is not None:
            install(app, ctx)

    build_openapi = app.openapi

    def openapi_30() -> dict:
        """The document every OGC API part's `oas30` class asks for (built once, then cached)."""
        spec = build_openapi()
        if spec.get("openapi") != oas30.VERSION:
            app.openapi_schema = spec = oas.build(spec, ctx)
        return spec

    app.openapi = openapi_30
    if config.http.forwarded_prefix:  # outermost: every middleware and route sees the proxy's root path
        from .http.prefix import ForwardedPrefixMiddleware

        app.add_middleware(ForwardedPrefixMiddleware)

    @app.get("/openapi", include_in_schema=False)
    def openapi(request: Request, f: str | None = None):
        if choose(request, f, ["json", "openapi", "html"]) == "html":
            return RedirectResponse(url=f"{ctx.base_url(request)}/docs")
        return json_response(app.openapi(), media_type=media_type("openapi"))

    return app
