"""OGC API - Features endpoints: items, one item, queryables.

Filters are dynamic (one per queryable property), so they are read from
`request.query_params`; the fixed parameters are declared here so /openapi
describes them.
"""

from __future__ import annotations

import inspect

import orjson
from fastapi import APIRouter, Path, Query, Request

from ..context import AppContext, json_response
from ..errors import BadRequest, NotFound
from ..negotiate import choose
from . import documents as docs
from .query import SUPPORTED_CRS, filterable, items_query, parse_crs, parse_properties

F_ITEMS = Query(None, description="response format: geojson (default), json or html (overrides Accept)")
F_JSON = Query(None, description="response format: json (default) or html (overrides Accept)")
CID = Path(..., description="a features collection id, see /collections")
ITEM_PARAMS = ("f", "crs", "properties")  # everything one feature takes; anything else is a 400
CRS = Query(None, description=f"CRS of the returned coordinates: {' or '.join(SUPPORTED_CRS)} (default CRS84, lon/lat)")

ITEMS_DESCRIPTION = """Features of the collection, as GeoJSON (or an HTML map and table).

Besides the parameters below, every property listed at `/collections/{collectionId}/queryables`
is a query parameter selecting features whose property equals the value (numbers compare numerically),
e.g. `?adm0name=France&megacity=1`. Any other parameter is rejected with a 400."""


def _geojson_content(description: str) -> dict:
    return {200: {"description": description, "content": {docs.GEOJSON: {}, "text/html": {}}}}


def build_router(ctx: AppContext) -> APIRouter:
    lim = ctx.config.limits
    r = APIRouter(tags=["Features"])

    def features_of(cid: str):
        c = ctx.registry.get(cid)
        if c.features is None:
            raise NotFound(f"collection {cid!r} is not a features collection", parameter="collectionId")
        return c, c.features

    def items(
        request: Request,
        collectionId: str = CID,
        f: str | None = F_ITEMS,
        limit: int = Query(lim.features_default_limit, ge=1, json_schema_extra={"maximum": lim.features_max_limit},
                           description=f"page size, 1 to {lim.features_max_limit} (more is a 400: the documented "
                                       "maximum; page with offset and the next links)"),
        offset: int = Query(0, ge=0, description="number of matching features to skip (the next link sets it)"),
        bbox: str | None = Query(None, description="minx,miny,maxx,maxy (or 6 numbers with heights) in bbox-crs; "
                                 "minx > maxx crosses the antimeridian", examples=["-10,35,30,60"]),
        bbox_crs: str | None = Query(None, alias="bbox-crs", description="CRS of bbox: CRS84 (default, lon/lat) or "
                                     "http://www.opengis.net/def/crs/EPSG/0/4326 (lat/lon)"),
        datetime: str | None = Query(None, description="RFC 3339 instant or interval (start/end, ../end, start/..) "
                                     "matched against the collection's time property"),
        properties: str | None = Query(None, description="comma-separated property names to return"),
        crs: str | None = CRS,
    ):
        c, store = features_of(collectionId)
        fmt = choose(request, f, ["geojson", "html", "json"])
        q = items_query(request.query_params, store, limit, offset, lim.features_max_limit)
        matched, page = q.run(store)
        base = ctx.base_url(request)
        params = list(request.query_params.multi_items())
        doc = docs.items_json(c.id, base, params, q, matched, page)
        if fmt == "html":
            data = {
                "collection": {"id": c.id, "title": c.title},
                "doc": doc,
                # the map always gets lon/lat, whatever crs the page was asked in
                "geojson": _script_json({"type": "FeatureCollection", "features": [docs.feature_json(x) for x in page]}),
                "columns": list(dict.fromkeys(k for feat in page for k in feat.properties)),
                "pages": docs.page_links(f"{base}/collections/{c.id}/items", params, q, len(page), matched, "html"),
                "first": q.offset + 1 if page else q.offset,
            }
            return ctx.html("features_items.html", request, data, f"{c.title}: features")
        return json_response(doc, media_type=docs.GEOJSON, headers={"Content-Crs": f"<{q.crs}>"})

    # Collections known at start get their own documented path listing their queryables as
    # parameters (clients such as GDAL read them there to send filters to the server);
    # the generic path serves every collection, including ones added later.
    # Private collections (`access`) get none: a route of their own would show their id in /openapi and /metrics.
    for c in ctx.registry:
        if c.features is not None and c.config.access is None:
            r.add_api_route(f"/collections/{c.id}/items", _bound(items, c.id), methods=["GET"],
                            summary=f"Features of {c.title}", description=ITEMS_DESCRIPTION,
                            responses=_geojson_content("a page of features (GeoJSON FeatureCollection)"),
                            openapi_extra={"parameters": _filter_parameters(c.features)})
    r.add_api_route("/collections/{collectionId}/items", items, methods=["GET"], summary="Features of a collection",
                    description=ITEMS_DESCRIPTION,
                    responses=_geojson_content("a page of features (GeoJSON FeatureCollection)"))

    @r.get("/collections/{collectionId}/items/{featureId}", summary="One feature",
           responses=_geojson_content("the feature (GeoJSON Feature)"))
    def item(
        request: Request,
        collectionId: str = CID,
        featureId: str = Path(..., description="the feature id, as in the items' `id`"),
        f: str | None = F_ITEMS,
        crs: str | None = CRS,
        properties: str | None = Query(None, description="comma-separated property names to keep (empty: none)"),
    ):
        c, store = features_of(collectionId)
        for name in request.query_params.keys():
            if name not in ITEM_PARAMS:
                raise BadRequest(f"unknown query parameter {name!r} for one feature; accepted: {', '.join(ITEM_PARAMS)}",
                                 parameter=name)
        fmt = choose(request, f, ["geojson", "html", "json"])
        out_crs = parse_crs(crs, "crs")
        keep = parse_properties(properties, store)
        feat = store.get(featureId)
        if feat is None:
            raise NotFound(f"no feature {featureId!r} in collection {c.id!r}", parameter="featureId")
        doc = docs.item_json(feat, c.id, ctx.base_url(request), out_crs)
        if keep is not None:
            doc["properties"] = {k: v for k, v in (doc.get("properties") or {}).items() if k in keep}
        if fmt == "html":
            data = {"collection": {"id": c.id, "title": c.title}, "doc": doc, "geojson": _script_json(docs.feature_json(feat))}
            return ctx.html("features_item.html", request, data, f"{c.title}: {feat.id}")
        return json_response(doc, media_type=docs.GEOJSON, headers={"Content-Crs": f"<{out_crs}>"})

    @r.get("/collections/{collectionId}/queryables", summary="Properties usable as filters (JSON Schema)",
           responses={200: {"description": "JSON Schema of the queryable properties",
                            "content": {docs.SCHEMA_JSON: {}, "text/html": {}}}})
    def queryables(request: Request, collectionId: str = CID, f: str | None = F_JSON):
        c, store = features_of(collectionId)
        accept = request.headers.get("accept", "")
        fmt = "json" if not f and "schema+json" in accept else choose(request, f, ["json", "html"])
        doc = docs.queryables_json(store, c.id, ctx.base_url(request), c.title)
        if fmt == "html":
            return ctx.html("features_queryables.html", request, {"collection": {"id": c.id, "title": c.title},
                                                                  "doc": doc}, f"{c.title}: queryables")
        return json_response(doc, media_type=docs.SCHEMA_JSON)

    return r


def _bound(endpoint, cid: str):
    """The endpoint with collectionId fixed, so FastAPI sees no path parameter."""

    def bound(**kwargs):
        return endpoint(collectionId=cid, **kwargs)

    sig = inspect.signature(endpoint)
    bound.__signature__ = sig.replace(parameters=[p for p in sig.parameters.values() if p.name != "collectionId"])
    bound.__name__ = f"items_{cid}".replace("-", "_").replace(".", "_")
    return bound


def _filter_parameters(store) -> list[dict]:
    return [{"name": name, "in": "query", "required": False, "style": "form", "explode": False,
             "description": f"only features whose {name} equals this value",
             "schema": {"type": schema["type"]}}
            for name, schema in filterable(store).items()]


def _script_json(value) -> str:
    """JSON safe to inline in a <script> block ('<' cannot end the script early)."""
    return orjson.dumps(value).decode().replace("<", "\\u003c")
