"""EDR routes: thin wrappers that pick the format, then parse → select → encode off the event loop.

Every query type is mounted twice, under /collections/{id}/ and under
/collections/{id}/instances/{instanceId}/; the declared query parameters document
the API (OpenAPI, `query_docs`) and the handlers read the raw query string, which also carries
extra-dimension selections such as `month=1`. Any parameter a query does not read is a
400 naming it (params.check_params), never silently ignored.
"""

from __future__ import annotations

from typing import Callable

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ..context import AppContext, json_response, link, run_blocking
from ..errors import BadRequest, NotFound
from ..negotiate import choose
from ..registry import Collection
from . import instances, locations
from .metadata import instance_doc
from .output import FORMATS, render
from .params import NoData, check_params, refuse_unknown
from .query_docs import FORMAT_ONLY, LOCATION, LOCATIONS_LIST, QUERY_PARAMETERS, documented
from .queries import QUERIES

TAG = "EDR"


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

    def query_route(qtype: str, dep: Callable):
        """The handler of query `qtype` on the collections (`dep`: collection) or their instances (`instance`)."""
        async def handler(request: Request, c: Collection = Depends(dep)):
            return await run(request, c, qtype)
        handler.__name__ = qtype
        return handler

    for name, parameters in QUERY_PARAMETERS.items():
        extra = documented(parameters)
        r.add_api_route(f"/collections/{{collectionId}}/{name}", query_route(name, collection), methods=["GET"],
                        summary=f"EDR {name} query", name=f"edr-{name}", openapi_extra=extra)
        r.add_api_route(f"/collections/{{collectionId}}/instances/{{instanceId}}/{name}", query_route(name, instance),
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

    @r.get("/collections/{collectionId}/locations", summary="EDR named locations (GeoJSON)",
           openapi_extra=documented(LOCATIONS_LIST))
    async def locations_list(request: Request, c: Collection = Depends(collection)):
        return await list_locations(request, c, f"{ctx.base_url(request)}/collections/{c.id}/locations")

    @r.get("/collections/{collectionId}/locations/{locationId}", summary="EDR data at a named location",
           openapi_extra=documented(LOCATION))
    async def location(request: Request, locationId: str, c: Collection = Depends(collection)):
        return await one_location(request, c, locationId)

    @r.get("/collections/{collectionId}/instances/{instanceId}/locations", summary="EDR named locations of an instance",
           openapi_extra=documented(LOCATIONS_LIST))
    async def instance_locations_list(request: Request, instanceId: str, c: Collection = Depends(instance)):
        href = f"{ctx.base_url(request)}/collections/{c.id}/instances/{instanceId}/locations"
        return await list_locations(request, c, href)

    @r.get("/collections/{collectionId}/instances/{instanceId}/locations/{locationId}",
           summary="EDR data at a named location of an instance", openapi_extra=documented(LOCATION))
    async def instance_location(request: Request, locationId: str, c: Collection = Depends(instance)):
        return await one_location(request, c, locationId)

    @r.get("/collections/{collectionId}/instances", summary="EDR instances (model runs) of a collection",
           openapi_extra=documented(FORMAT_ONLY))
    def instance_list(collectionId: str, request: Request):
        c = ctx.registry.gridded(collectionId)
        refuse_unknown(request.query_params.keys(), ["f"], "the instances list")
        choose(request, single_params(request).get("f"), ["json"])
        if not instances.has_instances(c):
            raise NotFound(f"collection {collectionId!r} has no instances", parameter="collectionId")
        base = ctx.base_url(request)
        docs = [instance_doc(c, instances.view(c, iid), iid, base) for iid in instances.instance_ids(c)]
        href = f"{base}/collections/{c.id}/instances"
        return json_response({"links": [link(href, "self", "application/json", "instances")], "instances": docs})

    @r.get("/collections/{collectionId}/instances/{instanceId}", summary="One EDR instance",
           openapi_extra=documented(FORMAT_ONLY))
    def instance_one(collectionId: str, instanceId: str, request: Request):
        c = ctx.registry.gridded(collectionId)
        refuse_unknown(request.query_params.keys(), ["f"], "an instance")
        choose(request, single_params(request).get("f"), ["json"])
        inst = _view(ctx, collectionId, instanceId)
        return json_response(instance_doc(c, inst, inst.extra.get("instance", instanceId), ctx.base_url(request)))

    return r
