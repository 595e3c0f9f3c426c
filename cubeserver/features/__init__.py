"""OGC API - features.

Part 1 (core, GeoJSON, HTML, OpenAPI 3.0), Part 2 (CRS84 and EPSG:4326 output and
bbox-crs) and Part 3 queryables used as equality query parameters. Vector
collections are held by `store.FeatureStore`, which EDR and Processes reuse.
"""

from __future__ import annotations

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]


def collection_hook(collection, base: str, doc: dict) -> None:
    """Make a vector collection's document navigable by Features clients; gridded ones are untouched."""
    if collection.features is None:
        return
    from ..context import link
    from .documents import GEOJSON, QUERYABLES_REL, SCHEMA_JSON
    from .query import CRS84_URI, SUPPORTED_CRS

    href = f"{base}/collections/{collection.id}"
    doc["itemType"] = "feature"
    doc["crs"] = list(SUPPORTED_CRS)
    doc["storageCrs"] = CRS84_URI
    doc["links"] += [
        link(f"{href}/items?f=geojson", "items", GEOJSON, "the features as GeoJSON"),
        link(f"{href}/items?f=html", "items", "text/html", "the features as HTML"),
        link(f"{href}/queryables?f=json", QUERYABLES_REL, SCHEMA_JSON, "properties usable as filters"),
    ]


def install(app, ctx) -> None:
    from .routes import build_router

    app.include_router(build_router(ctx))
    ctx.conformance.extend(c for c in CONFORMANCE if c not in ctx.conformance)
    ctx.collection_hooks.append(collection_hook)
