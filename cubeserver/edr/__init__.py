"""OGC API - Environmental Data Retrieval 1.1 for every gridded collection.

`install(app, ctx)` mounts the query routes, declares the conformance classes and adds
EDR metadata (data_queries, parameter_names, output_formats) to collection documents.
"""

from __future__ import annotations

EDR = "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf"
CONFORMANCE = [f"{EDR}/{c}" for c in ("core", "collections", "json", "covjson", "geojson", "edr-geojson",
                                        "queries", "instances", "oas30")]


def install(app, ctx) -> None:
    from .metadata import collection_hook
    from .routes import build_router

    app.include_router(build_router(ctx))
    ctx.conformance.extend(CONFORMANCE)
    ctx.collection_hooks.append(collection_hook)
