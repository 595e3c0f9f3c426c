"""EDR routes: thin wrappers that pick the format, then parse → select → encode off the event loop.

Every query type is mounted twice, under /collections/{id}/ and under
/collections/{id}/instances/{instanceId}/; the declared query parameters document
the API (OpenAPI) and the handlers read the raw query string, which also carries
extra-dimension selections such as `month=1`. Any parameter a query does not read is a
400 naming it (params.check_params), never silently ignored.
"""

from __future__ import annotations

from typing import Callable

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from ..context import AppContext, json_response, link, run_blocking
from ..errors import BadRequest, NotFound
from ..negotiate import choose
from ..registry import Collection
from . import instances, locations
from .metadata import instance_doc
from .output import FORMATS, render
from .params import UNITS_M, NoData, check_params, refuse_unknown
from .queries import QUERIES

TAG = "EDR"
DATETIME = Query(None, description="instant, interval a/b (open ends ..), or list a,b; RFC 3339 dates of the collection's "
                 "calendar (2022-02-30 on 360_day)", examples=["2000-01-16T06:00:00Z"])
Z = Query(None, description="level, list 200,500, range 100/500, or R{n}/{min}/{step}")
PARAMS = Query(None, alias="parameter-name", description="comma-separated variable names (default: all)")
CRS = Query(None, description="CRS of coords/bbox and of the answer's coordinates: CRS84 (default), EPSG:4326 or the native CRS")
F = Query(None, description="CoverageJSON (default), NetCDF (NetCDF-3 when it fits the classic model), NetCDF4, GeoJSON "
          "or CSV (the last two for point answers); "
          "html: a page drawing the answer (chart or map)")
RES_X = Query(None, alias="resolution-x", description="number of positions across the x extent (0 = native)")
RES_Y = Query(None, alias="resolution-y", description="number of positions across the y extent (0 = native)")
RES_Z = Query(None, alias="resolution-z", description="number of levels spread evenly from the lowest to the highest "
              "selected level (nearest levels; 0 = all)")


def _required(name: str, description: str, enum: list[str] | None = None) -> dict:
    """An OpenAPI parameter EDR requires but the handler checks itself, so that its absence is a 400
    naming the allowed values (FastAPI's own check would only say "Field required")."""
    schema = {"type": "string"}
    if enum:
        schema["enum"] = enum
    return {"name": name, "in": "query", "required": True, "style": "form", "explode": False,
            "description": description, "schema": schema}


UNITS_DOC = f"one of {', '.join(UNITS_M)} (also the collection's data_queries variables)"
REQUIRED = {
    "radius": [_required("within-units", f"units of `within`: {UNITS_DOC}", list(UNITS_M))],
    "corridor": [
        _required("width-units", f"units of `corridor-width`: {UNITS_DOC}", list(UNITS_M)),
        _required("corridor-height", "total height of the corridor around the path's Z (or `z`) in `height-units`; "
                  "a path without Z spans all levels; no effect on a collection without a vertical axis"),
        _required("height-units", "units of `corridor-height`: the z axis units listed in the collection's "
                  "data_queries corridor height_units (m, km or mi without a vertical axis)"),
    ],
}
BBOX_LIST = Query(None, description="minx,miny,maxx,maxy in CRS84: only locations intersecting it "
                  "(minx > maxx crosses the antimeridian)", examples=["-10,35,30,60"])
LOC_RES_X = Query(None, alias="resolution-x", description="area (polygon) locations only: positions across x (0 = native)")
LOC_RES_Y = Query(None, alias="resolution-y", description="area (polygon) locations only: positions across y (0 = native)")
DATETIME_LIST = Query(None, description="RFC 3339 instant or interval; filters only locations that have a time "
                      "(locations without one, such as places, are all kept)")


def single_params(request: Request) -> dict[str, str]:
    """The query parameters as a dict; a parameter given twice is a 400 (EDR defines each once, and
    silently keeping one of two `coords` would answer a question nobody asked)."""
    seen: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in seen:
            raise BadRequest(f"{key} is given more than once; give it once (lists are comma-separated)",
                             parameter=key)
        seen[key] = value
    return seen


def _format(request: Request, params: dict, allowed: list[str]) -> str:
    """`f` by name or Accept; plain `f=json` means the query's JSON flavour, CoverageJSON."""
    f = params.get("f")
    if f is not None and f.strip().lower() in ("json", "application/json"):
        f = "covjson"
    return choose(request, f, allowed)


def _view(ctx: AppContext, cid: str, iid: str | None) -> Collection:
    c = ctx.registry.gridded(cid)
    if instances.has_instances(c):
        return instances.view(c, iid) if iid is not None else instances.latest(c)
    if iid is not None:
        raise NotFound(f"collection {cid!r} has no instances", parameter="instanceId")
    return c


async def _resolve(ctx: AppContext, cid: str, iid: str | None) -> Collection:
    """`_view` on the event loop when the collection is open in memory (no thread hand-off for a dictionary
    lookup: FastAPI runs a plain `def` dependency in its thread pool), else in a worker thread (a job store
    lookup or an open may do I/O)."""
    if ctx.registry.loaded(cid):
        return _view(ctx, cid, iid)
    return await run_blocking(_view, ctx, cid, iid)


def build_router(ctx: AppContext) -> APIRouter:
    r = APIRouter(tags=[TAG])

    async def collection(collectionId: str) -> Collection:
        return await _resolve(ctx, collectionId, None)

    async def instance(collectionId: str, instanceId: str) -> Collection:
        return await _resolve(ctx, collectionId, instanceId)

    def allowed(qtype: str) -> list[str]:
        """The query's formats, plus `html` when the viewer is installed (it draws the answer)."""
        return FORMATS[qtype] + (["html"] if "edr_html" in ctx.services else [])

    async def run(request: Request, c: Collection, qtype: str) -> object:
        params = single_params(request)
        check_params(params, c, qtype)
        fmt = _format(request, params, allowed(qtype))
        limit = ctx.config.limits.max_cells
        if fmt == "html":  # parse and select (lazily) so a bad query is its 400, then the page fetches the data
            try:
                await run_blocking(lambda: QUERIES[qtype](c, params))
            except NoData:
                return Response(status_code=204)
            return ctx.services["edr_html"](request, c, qtype, params)
        try:
            return await run_blocking(lambda: render(c, QUERIES[qtype](c, params), fmt, qtype, limit,
                                                     endpoint=ctx.request_url(request)))
        except NoData:
            return Response(status_code=204)

    def position(dep: Callable):
        async def position(request: Request, c: Collection = Depends(dep),
                           coords: str = Query(..., description="WKT POINT(x y) or MULTIPOINT((x y),(x y))"),
                           datetime: str | None = DATETIME, z: str | None = Z, parameter_name: str | None = PARAMS,
                           crs: str | None = CRS, f: str | None = F):
            return await run(request, c, "position")
        return position

    def area(dep: Callable):
        async def area(request: Request, c: Collection = Depends(dep),
                       coords: str = Query(..., description="WKT POLYGON((x y,...)) or MULTIPOLYGON"),
                       datetime: str | None = DATETIME, z: str | None = Z, parameter_name: str | None = PARAMS,
                       crs: str | None = CRS, f: str | None = F, resolution_x: str | None = RES_X,
                       resolution_y: str | None = RES_Y, resolution_z: str | None = RES_Z):
            return await run(request, c, "area")
        return area

    def cube(dep: Callable):
        async def cube(request: Request, c: Collection = Depends(dep),
                       bbox: str = Query(..., description="minx,miny,maxx,maxy (or 6 numbers with minz, maxz)"),
                       datetime: str | None = DATETIME, z: str | None = Z, parameter_name: str | None = PARAMS,
                       crs: str | None = CRS, f: str | None = F, resolution_x: str | None = RES_X,
                       resolution_y: str | None = RES_Y, resolution_z: str | None = RES_Z):
            return await run(request, c, "cube")
        return cube

    def radius(dep: Callable):
        async def radius(request: Request, c: Collection = Depends(dep),
                         coords: str = Query(..., description="WKT POINT(x y): the centre"),
                         within: float = Query(..., description="the radius, in within-units"),
                         datetime: str | None = DATETIME, z: str | None = Z, parameter_name: str | None = PARAMS,
                         crs: str | None = CRS, f: str | None = F):
            return await run(request, c, "radius")
        return radius

    def trajectory(dep: Callable):
        async def trajectory(request: Request, c: Collection = Depends(dep),
                             coords: str = Query(..., description="WKT LINESTRING; LINESTRINGM/Z/ZM give a time "
                                                 "(epoch seconds) and/or height per vertex"),
                             datetime: str | None = DATETIME, z: str | None = Z, parameter_name: str | None = PARAMS,
                             crs: str | None = CRS, f: str | None = F):
            return await run(request, c, "trajectory")
        return trajectory

    def corridor(dep: Callable):
        async def corridor(request: Request, c: Collection = Depends(dep),
                           coords: str = Query(..., description="WKT LINESTRING (M/Z/ZM allowed): the centre line"),
                           corridor_width: float = Query(..., alias="corridor-width",
                                                         description="total width, in width-units"),
                           datetime: str | None = DATETIME, z: str | None = Z, parameter_name: str | None = PARAMS,
                           crs: str | None = CRS, f: str | None = F,
                           resolution_x: str | None = Query(None, alias="resolution-x", description="number of "
                                                            "positions across the corridor's x extent (0 = native)"),
                           resolution_y: str | None = Query(None, alias="resolution-y", description="number of "
                                                            "positions across the corridor's y extent (0 = native)"),
                           resolution_z: str | None = RES_Z):
            return await run(request, c, "corridor")
        return corridor

    for make in (position, area, cube, radius, trajectory, corridor):
        name = make.__name__
        extra = {"parameters": REQUIRED[name]} if name in REQUIRED else None
        r.add_api_route(f"/collections/{{collectionId}}/{name}", make(collection), methods=["GET"],
                        summary=f"EDR {name} query", name=f"edr-{name}", openapi_extra=extra)
        r.add_api_route(f"/collections/{{collectionId}}/instances/{{instanceId}}/{name}", make(instance),
                        methods=["GET"], summary=f"EDR {name} query on one instance", name=f"edr-instance-{name}",
                        openapi_extra=extra)

    async def list_locations(request: Request, c: Collection, href: str):
        params = single_params(request)
        locations.check_list_params(params)
        choose(request, params.get("f"), ["geojson", "json"])
        doc = locations.listing(ctx.registry, c, ctx.base_url(request), href, params)
        return json_response(doc, media_type="application/geo+json")

    async def one_location(request: Request, c: Collection, loc_id: str):
        params = single_params(request)
        kind, _ = locations.resolve(ctx.registry, c, loc_id)
        check_params(params, c, kind, location=True)
        fmt = _format(request, params, allowed("locations") if kind != "area" else FORMATS["area"])
        limit = ctx.config.limits.max_cells
        if fmt == "html":
            try:
                await run_blocking(lambda: locations.answer(ctx.registry, c, loc_id, params))
            except NoData:
                return Response(status_code=204)
            return ctx.services["edr_html"](request, c, "locations", params)
        try:
            return await run_blocking(lambda: render(c, locations.answer(ctx.registry, c, loc_id, params)[1], fmt,
                                                     f"location-{loc_id}", limit, endpoint=ctx.request_url(request)))
        except NoData:
            return Response(status_code=204)

    @r.get("/collections/{collectionId}/locations", summary="EDR named locations (GeoJSON)")
    async def locations_list(request: Request, c: Collection = Depends(collection), bbox: str | None = BBOX_LIST,
                             datetime: str | None = DATETIME_LIST, f: str | None = F):
        return await list_locations(request, c, f"{ctx.base_url(request)}/collections/{c.id}/locations")

    @r.get("/collections/{collectionId}/locations/{locationId}", summary="EDR data at a named location")
    async def location(request: Request, locationId: str, c: Collection = Depends(collection),
                       datetime: str | None = DATETIME, z: str | None = Z, parameter_name: str | None = PARAMS,
                       crs: str | None = CRS, f: str | None = F, resolution_x: str | None = LOC_RES_X,
                       resolution_y: str | None = LOC_RES_Y):
        return await one_location(request, c, locationId)

    @r.get("/collections/{collectionId}/instances/{instanceId}/locations", summary="EDR named locations of an instance")
    async def instance_locations_list(request: Request, instanceId: str, c: Collection = Depends(instance),
                                      bbox: str | None = BBOX_LIST, datetime: str | None = DATETIME_LIST,
                                      f: str | None = F):
        href = f"{ctx.base_url(request)}/collections/{c.id}/instances/{instanceId}/locations"
        return await list_locations(request, c, href)

    @r.get("/collections/{collectionId}/instances/{instanceId}/locations/{locationId}",
           summary="EDR data at a named location of an instance")
    async def instance_location(request: Request, locationId: str, c: Collection = Depends(instance),
                                datetime: str | None = DATETIME, z: str | None = Z,
                                parameter_name: str | None = PARAMS, crs: str | None = CRS, f: str | None = F,
                                resolution_x: str | None = LOC_RES_X, resolution_y: str | None = LOC_RES_Y):
        return await one_location(request, c, locationId)

    @r.get("/collections/{collectionId}/instances", summary="EDR instances (model runs) of a collection")
    def instance_list(collectionId: str, request: Request, f: str | None = F):
        c = ctx.registry.gridded(collectionId)
        refuse_unknown(request.query_params.keys(), ["f"], "the instances list")
        choose(request, f, ["json"])
        if not instances.has_instances(c):
            raise NotFound(f"collection {collectionId!r} has no instances", parameter="collectionId")
        base = ctx.base_url(request)
        docs = [instance_doc(c, instances.view(c, iid), iid, base) for iid in instances.instance_ids(c)]
        href = f"{base}/collections/{c.id}/instances"
        return json_response({"links": [link(href, "self", "application/json", "instances")], "instances": docs})

    @r.get("/collections/{collectionId}/instances/{instanceId}", summary="One EDR instance")
    def instance_one(collectionId: str, instanceId: str, request: Request, f: str | None = F):
        c = ctx.registry.gridded(collectionId)
        refuse_unknown(request.query_params.keys(), ["f"], "an instance")
        choose(request, f, ["json"])
        inst = _view(ctx, collectionId, instanceId)
        return json_response(instance_doc(c, inst, inst.extra.get("instance", instanceId), ctx.base_url(request)))

    return r
