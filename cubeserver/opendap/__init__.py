"""OPeNDAP (DAP2 and DAP4) for every gridded collection, job results included: `/collections/{id}/opendap`.

For the netCDF-C world (ncdump, CDO, NCO, R ncdf4, MATLAB, Panoply, xarray's netCDF4 engine):
`install` mounts the routes, exposes the service on `app.state.opendap` and links each gridded
collection document to its dataset URL.
"""

from __future__ import annotations

from ..context import link
from .routes import OpendapService, build_router


def install(app, ctx) -> None:
    service = OpendapService(ctx)
    app.state.opendap = service
    app.include_router(build_router(ctx, service))

    def hook(collection, base_url: str, doc: dict) -> None:
        if collection.ds is None:
            return
        url = f"{base_url}/collections/{collection.id}/opendap"
        doc["links"].append(link(url, "related", "text/html",
                                 "OPeNDAP dataset URL (DAP2/DAP4) for ncdump, CDO, NCO, xarray, R, Panoply"))

    ctx.collection_hooks.append(hook)
