"""`/collections/{id}/zarr/...`: a read-only, consolidated Zarr v2 store over HTTP."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..context import AppContext, json_response, link, run_blocking
from ..errors import NotFound
from .service import ZarrService

ZARR_MEDIA = "application/vnd+zarr"
_DOCS = (".zmetadata", ".zgroup", ".zattrs", ".zarray")


def snippet(url: str) -> str:
    """The two lines of Python that open the store (shown on the collection page)."""
    return f'import xarray as xr\nds = xr.open_zarr("{url}", zarr_format=2, consolidated=True)'


def build_router(ctx: AppContext, service: ZarrService) -> APIRouter:
    r = APIRouter(tags=["Zarr"])

    @r.get("/collections/{collectionId}/zarr", summary="About the collection's Zarr v2 store")
    async def store_root(collectionId: str, request: Request):
        meta = await run_blocking(service.meta, collectionId)
        url = f"{ctx.base_url(request)}/collections/{collectionId}/zarr"
        return json_response({
            "zarr_format": 2,
            "consolidated": True,
            "arrays": {name: {"shape": list(s.shape), "chunks": list(s.chunks), "dtype": s.encoded.dtype.str}
                       for name, s in meta.arrays.items()},
            "python": snippet(url),
            "links": [link(f"{url}/.zmetadata", "describedby", "application/json", "consolidated metadata")],
        })

    @r.get("/collections/{collectionId}/zarr/{key:path}",
           summary="A Zarr v2 key: .zmetadata, .zgroup, .zattrs, {var}/.zarray, {var}/.zattrs or {var}/{chunk}")
    async def store_key(collectionId: str, key: str):
        if key.rsplit("/", 1)[-1] in _DOCS:
            body = await run_blocking(service.document, collectionId, key)
            return Response(body, media_type="application/json")
        var, sep, chunk = key.partition("/")
        if not sep or not chunk or "/" in chunk:
            await run_blocking(service.meta, collectionId)  # unknown collection: say so first
            raise NotFound(f"no Zarr key {key!r} in collection {collectionId!r}")
        body = await run_blocking(service.chunk, collectionId, var, chunk)
        return Response(body, media_type="application/octet-stream")

    return r
