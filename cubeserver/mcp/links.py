"""subset_link: a download URL (OGC API - Coverages, or the Zarr store) with its estimated size, not the data.

The Coverages parameters are parsed and the selection built with the same functions as
`/collections/{id}/coverage` (`coverages.request.parse_request`, `select`, `build`), so a link the
tool hands out is one the server accepts, and its size is the selection's: values x item size
(uncompressed; CoverageJSON as text, about 10 bytes a value). A selection over `limits.max_cells`
is still described (within_limits false) with the Zarr alternative, which has no such limit.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from ..coverages.request import build, parse_request, select
from ..errors import BadRequest, TooLarge
from ..negotiate import media_type
from ..select.core import cell_count
from .calls import Env
from .catalog import edr_view
from .models import SubsetLink

FORMATS = {"netcdf": "netcdf", "geotiff": "geotiff", "covjson": "covjson", "zarr": "zarr"}
TEXT_BYTES = 10  # bytes per value written as text (CoverageJSON)


def coverage_params(variables, bbox, datetime, z) -> list[tuple[str, str]]:
    """Coverages query parameters of the tool arguments (z as the vertical axis alias h)."""
    params: list[tuple[str, str]] = []
    if bbox is not None:
        if len(bbox) != 4:
            raise BadRequest("bbox: give [west, south, east, north] in degrees", parameter="bbox")
        params.append(("bbox", ",".join(repr(float(v)) for v in bbox)))
    if datetime:
        params.append(("datetime", datetime))
    if variables:
        params.append(("properties", ",".join(variables)))
    if z is not None and str(z).strip():
        text = str(z).strip()
        if "/" in text:  # the EDR range spelling lo/hi -> the Coverages one lo:hi
            lo, _, hi = text.partition("/")
            text = f"{lo}:{hi}"
        params.append(("subset", f"h({text})"))
    return params


def subset_link(env: Env, cid: str, fmt: str, variables, bbox, datetime, z) -> SubsetLink:
    """The URL that downloads this subset as NetCDF, GeoTIFF, CoverageJSON or opens it as Zarr, and its size."""
    fmt = (fmt or "netcdf").strip().lower()
    if fmt not in FORMATS:
        raise BadRequest(f"format: {fmt!r} is not offered; allowed: {', '.join(FORMATS)}", parameter="format")
    c = edr_view(env, cid)
    if z is not None and str(z).strip() and c.axes.z is None:  # else the Coverages 400 names the alias h
        raise BadRequest(f"z: collection {cid!r} has no vertical axis", parameter="z")
    items = coverage_params(variables, bbox, datetime, z)
    req = parse_request(QueryParams(items))
    limit = env.config.limits.max_cells
    image = fmt == "geotiff"
    sel = select(c, req, image=image)  # 400s name the parameter; nothing is read
    n = cell_count(sel.ds)
    itemsize = max((v.dtype.itemsize for v in sel.ds.data_vars.values()), default=8)
    within, note = True, None
    if fmt != "zarr":
        try:
            build(c, req, limit, image=image)
        except TooLarge as e:
            within, note = False, f"{e.detail} Or open it lazily as Zarr (format: zarr), which has no such limit."
    href = f"{env.base}/collections/{cid}"
    if fmt == "zarr":
        url = f"{href}/zarr"
        return SubsetLink(collection=cid, format="zarr", url=url, media_type="application/vnd+zarr",
                          estimated_values=n, estimated_bytes=n * itemsize, within_limits=True,
                          python=_zarr_snippet(url, c, variables, bbox, datetime),
                          note="the whole collection as a lazy store: only the chunks the subset touches are read")
    url = f"{href}/coverage?{urlencode(items + [('f', fmt)])}"
    size = n * (TEXT_BYTES if fmt == "covjson" else itemsize)
    if image and not note:
        note = "GeoTIFF is 2-D: one band per variable and selected time/level"
    return SubsetLink(collection=cid, format=fmt, url=url, media_type=media_type(fmt), estimated_values=n,
                      estimated_bytes=size, within_limits=within, note=note)


def _zarr_snippet(url: str, c, variables, bbox, datetime) -> str:
    ax = c.axes
    lines = ["import xarray as xr", f'ds = xr.open_zarr("{url}", zarr_format=2, consolidated=True)']
    if variables:
        lines.append(f"ds = ds[{list(variables)!r}]")
    sel = []
    if bbox is not None and ax.lonlat:
        west, south, east, north = (float(v) for v in bbox)
        ys = [float(v) for v in ax.y_values[[0, -1]]]
        lat = f"slice({south!r}, {north!r})" if ys[0] <= ys[-1] else f"slice({north!r}, {south!r})"
        sel += [f"{ax.x}=slice({west!r}, {east!r})", f"{ax.y}={lat}"]
    if datetime and ax.t and "/" in datetime:
        start, _, end = datetime.partition("/")
        sel.append(f"{ax.t}=slice({start if start != '..' else None!r}, {end if end != '..' else None!r})")
    if sel:
        lines.append(f"ds = ds.sel({', '.join(sel)})")
    return "\n".join(lines)
