"""OGC API - Maps: every gridded collection as a map in any CRS, bbox and size, with styles and legends.

`install` mounts the router, declares the conformance classes (Maps 1.0: core, collection map,
styled map, scaling, spatial/temporal/general subsetting, CRS, background, PNG and JPEG) and adds
the map / styles links to each gridded collection's document. Rendering: cubeserver.render.
"""

from __future__ import annotations

CONF = "http://www.opengis.net/spec/ogcapi-maps-1/1.0/conf/"
CONFORMANCE = [CONF + c for c in (
    "core", "collection-map", "styled-map", "scaling", "spatial-subsetting", "datetime", "general-subsetting",
    "crs", "background", "png", "jpeg",
)]


def install(app, ctx) -> None:
    from .documents import collection_hook
    from .routes import build_router

    app.include_router(build_router(ctx))
    ctx.conformance.extend(c for c in CONFORMANCE if c not in ctx.conformance)
    ctx.collection_hooks.append(collection_hook)
