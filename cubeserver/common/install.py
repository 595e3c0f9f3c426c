"""Mount OGC API Common."""

from .routes import build_router


def install(app, ctx) -> None:
    app.include_router(build_router(ctx))
