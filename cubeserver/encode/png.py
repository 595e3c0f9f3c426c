"""PNG quicklook of a Coverages answer: one field, one 2-D slice on its own grid, north up, nodata transparent.

A picture for people (the collection page shows it), not data. Colours come from the shared
renderer's styles (cubeserver/render: configured colormap and range, else the data's robust
2-98 % range; categorical palettes for codes), so the quicklook matches the maps, tiles, WMS
and legends. The caller picks the slice and keeps the size small.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..axes import AxisModel

MEDIA_TYPE = "image/png"
MAX_SIDE = 1024  # pixels on the longer side when the request does not scale itself
MIN_SIDE = 512  # small grids are enlarged (nearest) to at least this, for a readable picture


def quicklook_size(ds: xr.Dataset, axes: AxisModel, max_side: int = MAX_SIDE) -> dict[str, int] | None:
    """A scale-size that fits the image into max_side pixels (or enlarges a tiny grid), None if fine as is."""
    ny, nx = ds.sizes[axes.y], ds.sizes[axes.x]
    f = max(ny, nx) / max_side
    if f > 1:
        return {axes.x: max(1, int(round(nx / f))), axes.y: max(1, int(round(ny / f)))}
    if max(ny, nx) < MIN_SIDE:
        k = -(-MIN_SIDE // max(ny, nx))
        return {axes.x: nx * k, axes.y: ny * k}
    return None


def render_png(var: xr.DataArray, axes: AxisModel, style) -> bytes:
    """A computed DataArray on (Y, X) (extra dims: first value) -> PNG bytes, north up.

    Coloured by `style` (a `cubeserver.render.Style`: the collection's configured or automatic
    default style of that variable), through the same drawing code as maps, tiles and WMS, so a
    quicklook and a map of the same field have the same colours and legend.
    """
    from ..render import MapRequest
    from ..render.draw import image

    extra = [d for d in var.dims if d not in (axes.x, axes.y)]
    var = var.isel({d: 0 for d in extra}).transpose(axes.y, axes.x)
    values = np.asarray(var.values)
    data = values.astype("float64")
    fill = var.attrs.get("_FillValue", var.encoding.get("_FillValue"))
    if fill is not None and values.dtype.kind in "iu":
        data[values == fill] = np.nan
    ys, xs = var[axes.y].values, var[axes.x].values
    if ys.size > 1 and ys[0] < ys[-1]:
        data = data[::-1]  # north up
    if xs.size > 1 and xs[0] > xs[-1]:
        data = data[:, ::-1]
    drawn = MapRequest(parameter=str(var.name), bbox=(0.0, 0.0, 1.0, 1.0), format="png")  # bbox: unused by drawing
    return image(np.ascontiguousarray(data), style, drawn)
