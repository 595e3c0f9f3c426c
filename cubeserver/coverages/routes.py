"""OGC API - Coverages endpoints: the coverage, its domain set, range type and schema. Thin by design."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from ..context import AppContext, json_response, run_blocking
from ..errors import BadRequest
from ..negotiate import choose
from . import describe
from .render import FORMAT_KEYS, render
from .request import parse_request

SCHEMA_JSON = "application/schema+json"


def _json_only(request: Request, f: str | None, allowed=("json",), also: tuple[str, ...] = ()) -> None:
    """A JSON-only resource: another `f` is a 400; an Accept with neither JSON (nor `also`) nor */* a 406."""
    if f:
        if f.strip().lower() not in allowed:
            raise BadRequest(f"unsupported format f={f!r}; allowed: {', '.join(allowed)}", parameter="f")
        return
    if any(mt in request.headers.get("accept", "").lower() for mt in also):
        return
    choose(request, None, ["json"])


def build_router(ctx: AppContext) -> APIRouter:
    r = APIRouter(tags=["Coverages"])

    @r.get("/collections/{collectionId}/coverage", summary="The coverage, or a subset of it, in the chosen format")
    async def coverage(
        collectionId: str,
        request: Request,
        subset: list[str] | None = Query(None, description='axis(low:high) or axis(value), comma-separated or repeated, '
                                         'e.g. Lat(40:60),Lon(-10:20) or time("2000-03-01T00:00:00Z":"2000-06-01T00:00:00Z"); '
                                         '* is an open end; axis names as in the domainset (aliases Lon/Lat/x/y/h/time); '
                                         'X/Y values in the native CRS unless subset-crs (Lon/Lat on a projected coverage: degrees)'),
        bbox: str | None = Query(None, description="minx,miny,maxx,maxy in bbox-crs (CRS84 by default)"),
        bbox_crs: str | None = Query(None, alias="bbox-crs", description="CRS of bbox, e.g. http://www.opengis.net/def/crs/EPSG/0/3857"),
        datetime: str | None = Query(None, description="instant or interval start/end ('..' open), in the collection's calendar"),
        properties: str | None = Query(None, description="comma-separated field names (see rangetype)"),
        scale_size: str | None = Query(None, alias="scale-size", description="axis(cells),...: exact output size per axis"),
        scale_factor: str | None = Query(None, alias="scale-factor", description="divide X and Y cell counts by this (2 halves the resolution)"),
        scale_axes: str | None = Query(None, alias="scale-axes", description="axis(factor),...: per-axis factor"),
        subset_crs: str | None = Query(None, alias="subset-crs", description="CRS of subset X/Y values (native by default)"),
        crs: str | None = Query(None, description="output CRS, e.g. http://www.opengis.net/def/crs/EPSG/0/4326"),
        f: str | None = Query(None, description="covjson (default), netcdf (NetCDF-3 when it fits the classic model), netcdf4, geotiff (tif, GTiff; cog forces a Cloud-Optimized GeoTIFF) or png"),
    ):
        c = ctx.registry.gridded(collectionId)
        # plain f=json means this resource's JSON flavour, CoverageJSON (as in EDR)
        fmt = choose(request, "covjson" if (f or "").strip().lower() in ("json", "application/json") else f, FORMAT_KEYS)
        req = parse_request(request.query_params)
        cog = (f or "").strip().lower() == "cog"  # a COG even when small
        return await run_blocking(render, c, req, fmt, ctx.config.limits.max_cells, cog)

    @r.get("/collections/{collectionId}/coverage/domainset", summary="Domain set (CIS 1.1 JSON): axes, bounds, resolution, CRS")
    def domainset(collectionId: str, request: Request, f: str | None = Query(None, description="json")):
        c = ctx.registry.gridded(collectionId)
        _json_only(request, f)
        return json_response(describe.domainset(c))

    @r.get("/collections/{collectionId}/coverage/rangetype", summary="Range type (CIS 1.1 JSON): one field per variable")
    def rangetype(collectionId: str, request: Request, f: str | None = Query(None, description="json")):
        c = ctx.registry.gridded(collectionId)
        _json_only(request, f)
        return json_response(describe.rangetype(c))

    @r.get("/collections/{collectionId}/schema", summary="The coverage's fields as JSON Schema (units, type, nodata)")
    def schema(collectionId: str, request: Request, f: str | None = Query(None, description="json")):
        c = ctx.registry.gridded(collectionId)
        _json_only(request, f, ("json", "schema+json", SCHEMA_JSON), also=(SCHEMA_JSON,))
        href = f"{ctx.base_url(request)}/collections/{collectionId}/schema"
        return json_response(describe.schema(c, href), media_type=SCHEMA_JSON)

    return r
