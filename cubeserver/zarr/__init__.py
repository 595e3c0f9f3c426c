"""Zarr v2 over HTTP: every gridded collection as a lazy, consolidated store for `xr.open_zarr`.

`install` mounts the routes, exposes the service on `app.state.zarr` (its `reads`
counter tells how many chunks were computed) and links each gridded collection
document to its store with the Python that opens it.
"""

from __future__ import annotations

from ..context import link
from .routes import ZARR_MEDIA, build_router, snippet
from .service import ZarrService


def install(app, ctx) -> None:
    service = ZarrService(ctx)
    app.state.zarr = service
    app.include_router(build_router(ctx, service))

    def hook(collection, base_url: str, doc: dict) -> None:
        if collection.ds is None:
            return
        url = f"{base_url}/collections/{collection.id}/zarr"
        doc["links"].append(link(url, "alternate", ZARR_MEDIA, "Zarr v2 store (consolidated) for xarray.open_zarr"))
        doc["python_snippet"] = snippet(url)

    ctx.collection_hooks.append(hook)
