"""PNG quicklook: one field, one 2-D slice, coloured with matplotlib, north up, nodata transparent.

A picture for people (the collection page shows it), not data: values are scaled
robustly between the 2nd and 98th percentiles so outliers and fill values do not
wash the image out. Colormaps: `viridis` for ordinary fields, `RdBu_r` centred on 0
for fields that change sign (winds, anomalies), `tab20` for categorical codes and
`gray` for 8-bit imagery. The caller picks the slice and keeps the size small.
"""

from __future__ import annotations

import io

import numpy as np
import xarray as xr
from matplotlib import colormaps
from matplotlib.colors import BoundaryNorm, Normalize
from matplotlib.image import imsave

from ..axes import AxisModel
from ..select.scale import is_categorical

MEDIA_TYPE = "image/png"
MAX_SIDE = 1024  # pixels on the longer side when the request does not scale itself
MIN_SIDE = 512  # small grids are enlarged (nearest) to at least this, for a readable picture
MAX_CLASSES = 64  # integer fields with more distinct values are shown as continuous
DIVERGING = 0.2  # a field changing sign gets a diverging map when its smaller side is at least this share


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


def _colorize(var: xr.DataArray, data: np.ndarray):
    """(colormap, norm, values to colour): categorical codes become colour indices."""
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return colormaps["viridis"], Normalize(0, 1), data
    codes = np.unique(finite) if is_categorical(var) and var.dtype != np.uint8 else None
    if codes is not None and codes.size <= MAX_CLASSES:  # one distinct colour per code present, in code order
        cmap = colormaps["tab20"].resampled(max(2, codes.size))
        index = np.where(np.isfinite(data), np.searchsorted(codes, np.nan_to_num(data)), np.nan)
        return cmap, BoundaryNorm(np.arange(codes.size + 1) - 0.5, cmap.N), index
    lo, hi = (float(v) for v in np.percentile(finite, [2, 98]))
    if lo == hi:
        lo, hi = float(finite.min()), float(finite.max())
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
    if var.dtype == np.uint8:
        return colormaps["gray"], Normalize(lo, hi), data
    if lo < 0 < hi and min(-lo, hi) > DIVERGING * max(-lo, hi):  # both signs matter: centre on 0
        m = max(abs(lo), abs(hi))
        return colormaps["RdBu_r"], Normalize(-m, m), data
    return colormaps["viridis"], Normalize(lo, hi), data


def render_png(var: xr.DataArray, axes: AxisModel) -> bytes:
    """A computed DataArray on (Y, X) (extra dims: first value) -> PNG bytes."""
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
    cmap, norm, shown = _colorize(var, data)
    rgba = cmap(norm(np.ma.masked_invalid(shown)), bytes=True)
    rgba[~np.isfinite(data), 3] = 0  # nodata: transparent
    buf = io.BytesIO()
    imsave(buf, rgba, format="png")
    return buf.getvalue()
