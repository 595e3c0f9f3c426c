"""One coverage answer: run the request pipeline and hand the result to the format's encoder.

Runs in a worker thread (`context.run_blocking`): everything here may read data.
NetCDF and GeoTIFF are written to a temporary file chunk by chunk and streamed;
CoverageJSON and PNG are computed in memory (the size guard keeps them bounded).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr
from fastapi.responses import Response

from ..axes import AxisModel
from ..context import json_response
from ..encode import covjson, geotiff, netcdf, png
from ..encode.covjson_stream import stream_grid, streamable
from ..negotiate import FORMATS, media_type
from ..registry import Collection
from ..render import find_style
from ..select.core import compute
from .headers import content_headers
from .request import CoverageRequest, build, select

FORMAT_KEYS = ["covjson", "netcdf", "netcdf4", "geotiff", "png"]
PNG_TRIES = 4  # quicklook without `properties`: fields tried for one that is not all nodata


def filename(c: Collection, fmt: str) -> str:
    return f"{c.id}-coverage.{FORMATS[fmt].extension}"


def _with_grid_mapping(ds: xr.Dataset, axes: AxisModel) -> xr.Dataset:
    """CF grid_mapping for any CRS but plain lon/lat, so NetCDF readers know the projection."""
    return netcdf.with_grid_mapping(ds, axes.crs)


def _png_request(c: Collection, req: CoverageRequest, name: str) -> CoverageRequest:
    """One field at quicklook size (unless the request scales itself)."""
    req = dataclasses.replace(req, properties=[name])
    if not (req.scale_size or req.scale_axes or req.scale_factor):
        sel = select(c, req, image=True)
        size = png.quicklook_size(sel.ds, sel.axes)
        if size:
            req = dataclasses.replace(req, scale_size=size)
    return req


def _png(c: Collection, req: CoverageRequest, max_cells: int, name: str):
    """The first field asked, else the first of the collection's fields that is mostly data in this slice."""
    candidates = req.properties[:1] if req.properties else c.variables[:PNG_TRIES]
    best = None
    for field in candidates:
        sel = build(c, _png_request(c, req, field), max_cells, image=True)
        var = compute(sel.ds)[field]
        share = float(np.isfinite(var.values).mean()) if var.dtype.kind == "f" and var.size else 1.0
        if best is None or share > best[0]:
            best = (share, var, sel.axes)
        if share >= 0.5:
            break
    _, var, axes = best
    style = find_style(c, str(var.name), None)
    return Response(png.render_png(var, axes, style), media_type=png.MEDIA_TYPE,
                    headers={"Content-Disposition": f'inline; filename="{name}"', **content_headers(var.to_dataset(), axes)})


def render(c: Collection, req: CoverageRequest, fmt: str, max_cells: int, cog: bool = False):
    """The HTTP response for `fmt`; raises APIError subclasses for client mistakes. `cog`: f=cog asked."""
    name = filename(c, fmt)
    if c.axes.curvilinear is not None and fmt not in ("netcdf", "netcdf4"):  # cells with 2-D lat/lon: coverages/curvilinear.py
        from .curvilinear import render as curvilinear_render

        return curvilinear_render(c, req, fmt, max_cells, name, cog)
    if fmt == "png":
        return _png(c, req, max_cells, name)
    sel = build(c, req, max_cells, image=fmt == "geotiff")
    response = _encode(c, sel.ds, sel.axes, fmt, name, cog)
    response.headers.update(content_headers(sel.ds, sel.axes))
    return response


def _encode(c: Collection, ds: xr.Dataset, axes: AxisModel, fmt: str, name: str, cog: bool):
    if fmt in ("netcdf", "netcdf4"):
        return netcdf.netcdf_response(_with_grid_mapping(ds, axes), name, netcdf4=fmt == "netcdf4")
    if fmt == "geotiff":
        return geotiff.geotiff_response(ds, axes, name, cog=True if cog else None)
    disposition = {"Content-Disposition": f'inline; filename="{name}"'}
    if streamable(ds, axes):  # millions of values: the EDR streamer, slab by slab, never whole in memory
        response = stream_grid(ds, axes)
        response.headers.update(disposition)
        return response
    doc = covjson.grid(compute(ds), axes)
    return json_response(doc, media_type=media_type("covjson"), headers=disposition)
