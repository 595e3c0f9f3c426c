"""Downsampling (and upsampling) of a lazy selection to a requested number of cells per axis.

Why two methods: averaging is right for continuous fields (temperature, winds) but
invents classes that do not exist for categorical ones (basin codes, land masks).
- Continuous floats: block mean, NaN-aware. An integer factor f gives blocks of f
  cells (the last block may be partial, as xarray `coarsen(boundary="pad")`); any other
  ratio (e.g. GDAL asking for an overview of 396 cells from 791) splits the axis into
  `m` nearly equal blocks [floor(i*n/m), floor((i+1)*n/m)).
- Integers, booleans and CF flag variables (`flag_values`, or integers stored as floats
  without scale_factor): the cell nearest each block's centre (for even blocks, the
  first of the two middle cells: factor 2 is a plain stride `[0::2]`).
- Upsampling (more cells than the source) always repeats the nearest cell.
New X/Y coordinates form a regular grid over the same extent (so GeoTIFF transforms
stay exact); other axes keep the label of the cell nearest each block's centre.
Everything stays lazy: `coarsen` for exact blocks, one `isel` + masked `coarsen` otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

_FLAG_ATTRS = ("flag_values", "flag_meanings", "flag_masks")
MAX_CELLS_PER_AXIS = 2**31 - 1  # larger upsampling requests are refused by the size guard anyway


@dataclass(frozen=True)
class AxisScale:
    """Scale one dimension from `n` to `size` cells; `block` is set when blocks are exactly that wide."""

    dim: str
    n: int
    size: int
    block: int | None = None

    @property
    def identity(self) -> bool:
        return self.size == self.n and self.block in (None, 1)


def from_factor(dim: str, n: int, factor: float) -> AxisScale:
    """scale-factor / scale-axes: 2 halves the cells (ceil), 0.5 doubles them."""
    if factor >= n:  # everything in one block
        return AxisScale(dim, n, 1, n if n > 1 else None)
    if factor >= 1 and float(factor).is_integer():
        f = int(factor)
        return AxisScale(dim, n, max(1, math.ceil(n / f)), f if f > 1 else None)
    # capped before rounding: a tiny factor (1e-308) makes n / factor infinite, which int() cannot take
    return AxisScale(dim, n, max(1, int(math.floor(min(n / factor + 0.5, MAX_CELLS_PER_AXIS)))))


def from_size(dim: str, n: int, size: int) -> AxisScale:
    """scale-size: exactly `size` cells; exact blocks when `size` divides `n`."""
    block = n // size if size < n and n % size == 0 else None
    return AxisScale(dim, n, int(size), block)


def is_categorical(var: xr.DataArray) -> bool:
    """Integers, booleans, CF flags, and integer codes decoded to float without packing."""
    if var.dtype.kind in "iub":
        return True
    if any(k in var.attrs for k in _FLAG_ATTRS):
        return True
    enc = var.encoding
    stored = enc.get("dtype")
    if stored is not None and np.dtype(stored).kind in "iu" and "scale_factor" not in enc and "add_offset" not in enc:
        return True
    return False


def _blocks(s: AxisScale) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) source index of every output cell."""
    i = np.arange(s.size)
    if s.block:
        starts = i * s.block
        return starts, np.minimum(starts + s.block, s.n)
    if s.size < s.n:
        edges = np.floor(np.arange(s.size + 1) * s.n / s.size).astype(int)
        return edges[:-1], edges[1:]
    starts = np.minimum(np.floor((i + 0.5) * s.n / s.size).astype(int), s.n - 1)
    return starts, starts + 1


def nearest_indices(s: AxisScale) -> np.ndarray:
    starts, ends = _blocks(s)
    return np.minimum(starts + (ends - starts - 1) // 2, s.n - 1)


def _mean(var: xr.DataArray, scales: list[AxisScale]) -> xr.DataArray:
    """NaN-aware block mean over all `scales` at once (a 2-D block is one mean, not a mean of means)."""
    dims = {s.dim for s in scales}
    var = var.drop_vars([c for c in var.coords if dims & set(var[c].dims)])
    windows, picks, mask = {}, {}, None
    for s in scales:
        if s.block:
            windows[s.dim] = s.block
            continue
        starts, ends = _blocks(s)
        width = int((ends - starts).max())
        idx = starts[:, None] + np.arange(width)[None, :]
        picks[s.dim] = np.minimum(idx, s.n - 1).ravel()
        windows[s.dim] = width
        valid = (idx < ends[:, None]).ravel()
        if not valid.all():
            m = xr.DataArray(valid, dims=s.dim)
            mask = m if mask is None else mask & m
    if picks:
        var = var.isel(picks)
    if mask is not None:
        var = var.where(mask)
    return var.coarsen(windows, boundary="pad").mean()


def regular_step(values: np.ndarray) -> float | None:
    """The signed step of an evenly spaced numeric axis, else None.

    Evenly spaced to 0.1% of a cell, or to a few units in the last place of the stored values: a
    fine float32 grid far from 0 (rotated longitudes 359.6 at 0.0009° steps) wobbles by ~3% of a cell.
    """
    if values.dtype.kind not in "fiu" or values.size < 2:
        return None
    v = values.astype("float64")
    step = (v[-1] - v[0]) / (v.size - 1)
    ulps = 4 * np.finfo(values.dtype).eps * float(np.max(np.abs(v))) if values.dtype.kind == "f" else 0.0
    if step != 0 and np.all(np.abs(np.diff(v) - step) <= 1e-3 * abs(step) + ulps):
        return float(step)
    return None


def _new_coord(coord: xr.DataArray, s: AxisScale, regular: bool) -> np.ndarray:
    values = coord.values
    res = regular_step(values) if regular else None
    if res is None:
        return values[nearest_indices(s)]
    v0 = float(values[0])
    if s.block:
        new = v0 + (np.arange(s.size) * s.block + (s.block - 1) / 2) * res
    else:
        new = (v0 - res / 2) + (np.arange(s.size) + 0.5) * (s.n * res / s.size)
    return new.astype(values.dtype if values.dtype.kind == "f" else "float64")


def scale_dataset(ds: xr.Dataset, plan: list[AxisScale], regular_dims: tuple[str, ...] = ()) -> xr.Dataset:
    """Apply the plan to every variable; `regular_dims` (X, Y) get a regular output grid."""
    plan = [s for s in plan if not s.identity and s.dim in ds.dims]
    if not plan:
        return ds
    out = {}
    for name, var in ds.data_vars.items():
        mine = [s for s in plan if s.dim in var.dims]
        if not mine:
            out[name] = var
            continue
        nearest = mine if is_categorical(var) else [s for s in mine if s.size >= s.n]
        mean = [s for s in mine if s not in nearest]
        new = var.drop_vars([c for c in var.coords if {s.dim for s in mine} & set(var[c].dims)])
        if nearest:
            new = new.isel({s.dim: nearest_indices(s) for s in nearest})
        if mean:
            new = _mean(new, mean)
            new.encoding = _float_encoding(var.encoding)
        new.attrs = var.attrs
        out[name] = new
    result = xr.Dataset(out, attrs=ds.attrs)
    scaled = {s.dim: s for s in plan}
    coords = {}
    for c, coord in ds.coords.items():
        dims = [d for d in coord.dims if d in scaled]
        if not dims:
            coords[c] = coord.variable
        elif c in scaled:
            s = scaled[c]
            coords[c] = xr.Variable(c, _new_coord(coord, s, c in regular_dims), coord.attrs, coord.encoding)
        else:  # auxiliary coordinates follow the nearest cells
            coords[c] = coord.isel({d: nearest_indices(scaled[d]) for d in dims}).variable
    return result.assign_coords(coords)


def _float_encoding(enc: dict) -> dict:
    """Means are no longer the packed integers of the source: keep only what still applies."""
    return {k: v for k, v in enc.items() if k in ("units", "calendar", "grid_mapping", "_FillValue")
            and not (k == "_FillValue" and isinstance(v, (int, np.integer)))}
