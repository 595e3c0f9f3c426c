"""OGC API - Maps endpoints: the map, the styled map, the styles list and legends. Thin by design:
parse (params.py) -> render (cubeserver.render, in a worker thread) -> bytes."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..context import AppContext, json_response, run_blocking
from ..errors import BadRequest
from ..negotiate import choose, media_type
from ..render.request import FORMATS, MEDIA_TYPES
from . import documents
from .params import _size, map_request

LEGEND_MAX = 1024  # pixels per side of a legend image

_SUBSET = Query(None, description='one value per z / extra dimension, e.g. level(500) or z(850), month(2); time("...") '
                'as an alternative to datetime; Lon(a:b),Lat(c:d) as a CRS84 area')


# the map parameters, declared once for /map and /styles/{styleId}/map (the values are read by params.py)
_PROPERTIES = Query(None, description="the field to draw (one; default: the first, see rangetype)")
_BBOX = Query(None, description="minx,miny,maxx,maxy in bbox-crs (default: the collection's extent)")
_BBOX_CRS = Query(None, alias="bbox-crs", description="CRS of bbox (default CRS84)")
_CRS = Query(None, description="CRS of the map, e.g. http://www.opengis.net/def/crs/EPSG/0/3857 (default CRS84)")
_WIDTH = Query(None, ge=1, le=4096, description="pixels (1-4096; default: from height and the bbox's aspect, or 1024)")
_HEIGHT = Query(None, ge=1, le=4096, description="pixels (1-4096; default: from width and the bbox's aspect)")
_DATETIME = Query(None, description="one time step of the data (default: the latest)")
_TRANSPARENT = Query(None, description="true (default): nodata is transparent; false: bgcolor")
_BGCOLOR = Query(None, description="background colour 0xRRGGBB, #RRGGBB or a colour name (default white)")
_RESAMPLING = Query(None, description="nearest (default) or bilinear")
_F = Query(None, description="png (default), jpeg or webp")


def _properties(c, properties: str | None) -> str | None:
    if properties is None or not properties.strip():
        return None
    names = [p.strip() for p in properties.split(",") if p.strip()]
    if len(names) != 1:
        raise BadRequest(f"properties: a map shows one field; got {len(names)} ({properties}); available: "
                         f"{', '.join(c.variables)}", parameter="properties")
    if names[0] not in c.variables:
        raise BadRequest(f"properties: unknown field {names[0]!r}; available: {', '.join(c.variables)}",
                         parameter="properties")
    return names[0]


def build_router(ctx: AppContext) -> APIRouter:
    r = APIRouter(tags=["Maps"])

    async def _map(collectionId: str, request: Request, properties: str | None, style: str | None, f: str | None):
        c = ctx.registry.gridded(collectionId)
        fmt = choose(request, f, list(FORMATS))
        req = map_request(c, request.query_params, _properties(c, properties), style, fmt)
        from ..render import render_map

        body = await run_blocking(render_map, c, req)
        name = f"{c.id}-{req.parameter}-map.{ 'jpg' if fmt == 'jpeg' else fmt}"
        bbox = ",".join(f"{v:.10g}" for v in req.bbox)
        return Response(body, media_type=MEDIA_TYPES[fmt], headers={
            "Content-Crs": f"<{req.crs}>", "Content-Bbox": bbox, "Content-Disposition": f'inline; filename="{name}"'})

    @r.get("/collections/{collectionId}/map", summary="A map of one field (PNG, JPEG or WebP), any CRS, bbox and size")
    async def collection_map(
        collectionId: str, request: Request, properties: str | None = _PROPERTIES, bbox: str | None = _BBOX,
        bbox_crs: str | None = _BBOX_CRS, crs: str | None = _CRS, width: int | None = _WIDTH,
        height: int | None = _HEIGHT, datetime: str | None = _DATETIME, subset: list[str] | None = _SUBSET,
        styles: str | None = Query(None, description="style id (see /collections/{collectionId}/styles; default: default)"),
        transparent: str | None = _TRANSPARENT, bgcolor: str | None = _BGCOLOR, resampling: str | None = _RESAMPLING,
        f: str | None = _F,
    ):
        return await _map(collectionId, request, properties, styles, f)

    @r.get("/collections/{collectionId}/styles/{styleId}/map", summary="A map of one field drawn in one style")
    async def styled_map(
        collectionId: str, styleId: str, request: Request, properties: str | None = _PROPERTIES,
        bbox: str | None = _BBOX, bbox_crs: str | None = _BBOX_CRS, crs: str | None = _CRS,
        width: int | None = _WIDTH, height: int | None = _HEIGHT, datetime: str | None = _DATETIME,
        subset: list[str] | None = _SUBSET, transparent: str | None = _TRANSPARENT, bgcolor: str | None = _BGCOLOR,
        resampling: str | None = _RESAMPLING, f: str | None = _F,
    ):
        c = ctx.registry.gridded(collectionId)
        documents.check_style(c, styleId)
        return await _map(collectionId, request, properties, styleId, f)

    @r.get("/collections/{collectionId}/styles", summary="The styles the collection's fields can be drawn in")
    async def styles_list(collectionId: str, request: Request, f: str | None = Query(None, description="json")):
        c = ctx.registry.gridded(collectionId)
        choose(request, f, ["json"])
        doc = await run_blocking(documents.styles_document, c, ctx.base_url(request))
        return json_response(doc)

    @r.get("/collections/{collectionId}/styles/{styleId}/legend", summary="Legend of a style: colour stops (JSON) or a colour bar (PNG)")
    async def legend(
        collectionId: str, styleId: str, request: Request,
        properties: str | None = Query(None, description="the field (default: the first)"),
        subset: list[str] | None = _SUBSET,
        width: int | None = Query(None, ge=1, le=LEGEND_MAX, description="PNG width in pixels (default 120)"),
        height: int | None = Query(None, ge=1, le=LEGEND_MAX, description="PNG height in pixels (default 300)"),
        f: str | None = Query(None, description="png (default) or json"),
    ):
        c = ctx.registry.gridded(collectionId)
        fmt = choose(request, f, ["png", "json"])
        var = _properties(c, properties) or c.variables[0]
        documents.check_style(c, styleId)
        from ..render.legend import legend_json, legend_png
        from .params import _subsets

        dims, _, _ = _subsets(c, request.query_params.getlist("subset") or None)
        if fmt == "json":
            return json_response(await run_blocking(legend_json, c, var, styleId, dims))
        w = _size(request.query_params.get("width"), "width") or 120
        h = _size(request.query_params.get("height"), "height") or 300
        if w > LEGEND_MAX or h > LEGEND_MAX:
            raise BadRequest(f"{'width' if w > LEGEND_MAX else 'height'}: a legend is at most {LEGEND_MAX} pixels",
                             parameter="width" if w > LEGEND_MAX else "height")
        body = await run_blocking(legend_png, c, var, styleId, w, h, dims)
        return Response(body, media_type=media_type("png"))

    return r
