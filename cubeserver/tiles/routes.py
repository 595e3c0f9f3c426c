"""OGC API - Tiles routes: tile matrix sets, tileset lists and metadata, map tiles and coverage tiles. Thin.

Caching (see cubeserver.http.conditional): every tile answer carries a strong ETag hashed from the
request and the source file's modification time, and `tiles.cache_control`; a matching If-None-Match
is answered 304 before any data is read. With `tiles.cache_dir` the bodies are also kept on disk
(`cache.TileCache`); `X-Tile-Cache: hit|miss` says which.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from .. import __version__
from ..context import AppContext, json_response, run_blocking
from ..coverages.routes import _json_only
from ..http.validators import source_mtime
from . import documents, matrices, produce
from .cache import cache_key
from .params import DATA_FORMATS, IMAGE_FORMATS, parse_tile_query

F_JSON = Query(None, description="json")
TILE_PARAMS = dict(
    properties=Query(None, description="the field (variable) shown; the collection's first by default"),
    datetime=Query(None, description="one instant (ISO 8601) in the collection's calendar; the latest step by default"),
    subset=Query(None, description="one value per vertical or extra axis, e.g. pressure(500); the first by default"),
)


def build_router(ctx: AppContext) -> APIRouter:
    r = APIRouter(tags=["Tiles"])
    settings = ctx.config.tiles

    @r.get("/tileMatrixSets", summary="Tile matrix sets offered (OGC TMS 2.0)")
    def tms_list(request: Request, f: str | None = F_JSON):
        _json_only(request, f)
        return json_response(documents.tms_list(ctx.base_url(request)))

    @r.get("/tileMatrixSets/{tileMatrixSetId}", summary="One tile matrix set definition (OGC TMS 2.0 JSON)")
    def tms(tileMatrixSetId: str, request: Request, f: str | None = F_JSON):
        matrices.get(tileMatrixSetId)
        _json_only(request, f)
        return json_response(documents.tms_document(ctx.base_url(request), tileMatrixSetId))

    async def tile_answer(request: Request, collectionId: str, kind: str, tms_id: str, z: str, row: str, col: str,
                          style: str | None):
        c = ctx.registry.gridded(collectionId)
        tile = matrices.tile(tms_id, z, row, col)
        q = parse_tile_query(c, request.query_params, data=kind == "coverage", style=style,
                             accept=request.headers.get("accept", ""))
        table = DATA_FORMATS if kind == "coverage" else IMAGE_FORMATS
        media = table[q.format][0]
        headers = {"Cache-Control": settings.cache_control}
        cache = ctx.services.get("tile_cache")
        body = key = None
        if cache is not None:
            mtime = source_mtime(ctx.config.resolve(c.config.path))
            if mtime is not None:
                cache.invalidate(c.id, mtime)
                query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
                key = cache_key(__version__, ctx.config.model_dump_json(exclude={"collections"}),
                                c.config.model_dump_json(), request.url.path, query, q.format, repr(mtime))
                body = cache.get(c.id, key)
                headers["X-Tile-Cache"] = "hit" if body is not None else "miss"
        if body is None:
            make = produce.coverage_tile if kind == "coverage" else produce.map_tile
            body = await run_blocking(make, c, tile, q)
            if cache is not None and key is not None:
                cache.put(c.id, key, body)
        if kind == "coverage":
            ext = "tif" if q.format == "geotiff" else "nc"
            headers["Content-Disposition"] = f'inline; filename="{c.id}-{tms_id}-{tile.z}-{tile.row}-{tile.col}.{ext}"'
        return Response(body, media_type=media, headers=headers)

    for kind, styled in (("map", False), ("map", True), ("coverage", False)):
        prefix = "/collections/{collectionId}" + ("/styles/{styleId}" if styled else "") + f"/{kind}/tiles"
        _add(r, ctx, prefix, kind, styled, tile_answer)
    return r


def _add(r: APIRouter, ctx: AppContext, prefix: str, kind: str, styled: bool, tile_answer) -> None:
    """The three routes under one tiles root: tilesets list, tileset metadata, tile."""
    what = "map" if kind == "map" else "coverage (data)"
    style_doc = " in one style" if styled else ""

    async def _list(request: Request, collectionId: str, styleId: str | None = None, f: str | None = F_JSON):
        c = ctx.registry.gridded(collectionId)
        _json_only(request, f)
        return json_response(documents.tilesets(ctx.base_url(request), c, kind, styleId))

    async def _tileset(request: Request, collectionId: str, tileMatrixSetId: str, styleId: str | None = None,
                       f: str | None = F_JSON):
        c = ctx.registry.gridded(collectionId)
        matrices.get(tileMatrixSetId)
        _json_only(request, f)
        return json_response(documents.tileset(ctx.base_url(request), c, kind, tileMatrixSetId, styleId))

    fmt_doc = ("png (default), jpeg or webp" if kind == "map" else "geotiff (default) or netcdf")

    async def _tile(request: Request, collectionId: str, tileMatrixSetId: str, tileMatrix: str, tileRow: str,
                    tileCol: str, styleId: str | None = None,
                    properties: str | None = TILE_PARAMS["properties"], datetime: str | None = TILE_PARAMS["datetime"],
                    subset: list[str] | None = TILE_PARAMS["subset"],
                    styles: str | None = Query(None, description="style id (default: the variable's default style)"),
                    f: str | None = Query(None, description=fmt_doc)):
        return await tile_answer(request, collectionId, kind, tileMatrixSetId, tileMatrix, tileRow, tileCol, styleId)

    if not styled:  # styleId is a path parameter only on the styled routes
        for fn in (_list, _tileset, _tile):
            fn.__signature__ = _without(fn, "styleId")
    if kind == "coverage":
        _tile.__signature__ = _without(_tile, "styles", "styleId" if not styled else "")
    r.add_api_route(prefix, _list, methods=["GET"], summary=f"{what.capitalize()} tilesets of a collection{style_doc}")
    r.add_api_route(prefix + "/{tileMatrixSetId}", _tileset, methods=["GET"],
                    summary=f"{what.capitalize()} tileset metadata{style_doc} (limits from the data extent)")
    r.add_api_route(prefix + "/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}", _tile, methods=["GET"],
                    summary=f"One {what} tile{style_doc}",
                    response_class=Response)


def _without(fn, *names):
    import inspect

    sig = inspect.signature(fn)
    return sig.replace(parameters=[p for n, p in sig.parameters.items() if n not in names])
