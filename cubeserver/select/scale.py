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
    if factor >= 1 and float(factor).is_integer():
        f = int(factor)
        return AxisScale(dim, n, max(1, math.ceil(n / f)), f if f > 1 else None)
    return AxisScale(dim, n, max(1, int(math.floor(n / factor + 0.5))))


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


def _mean(var: xr.DataArray, s: AxisScale) -> xr.DataArray:
    var = var.drop_vars([c for c in var.coords if s.dim in var[c].dims])
    if s.block:
        return var.coarsen({s.dim: s.block}, boundary="pad").mean()
    starts, ends = _blocks(s)
    width = int((ends - starts).max())
    idx = starts[:, None] + np.arange(width)[None, :]
    valid = (idx < ends[:, None]).ravel()
    picked = var.isel({s.dim: np.minimum(idx, s.n - 1).ravel()})
    if not valid.all():
        picked = picked.where(xr.DataArray(valid, dims=s.dim))
    return picked.coarsen({s.dim: width}).mean()


def _new_coord(coord: xr.DataArray, s: AxisScale, regular: bool) -> np.ndarray:
    values = coord.values
    if regular and values.dtype.kind in "fiu" and s.n > 1:
        v = values.astype("float64")
        res = (v[-1] - v[0]) / (s.n - 1)
        if np.allclose(np.diff(v), res, rtol=1e-6, atol=1e-9 * max(1.0, abs(res))):
            if s.block:
                return v[0] + (np.arange(s.size) * s.block + (s.block - 1) / 2) * res
            edge0 = v[0] - res / 2
            return (edge0 + (np.arange(s.size) + 0.5) * (s.n * res / s.size)).astype(values.dtype if values.dtype.kind == "f" else "float64")
    return values[nearest_indices(s)]


def scale_dataset(ds: xr.Dataset, plan: list[AxisScale], regular_dims: tuple[str, ...] = ()) -> xr.Dataset:
    """Apply every AxisScale in turn; `regular_dims` (X, Y) get a regular output grid."""
    for s in plan:
        if s.identity or s.dim not in ds.dims:
            continue
        out = {}
        for name, var in ds.data_vars.items():
            if s.dim not in var.dims:
                out[name] = var
            elif is_categorical(var) or s.size >= s.n:
                out[name] = var.isel({s.dim: nearest_indices(s)}).drop_vars(
                    [c for c in var.coords if s.dim in var[c].dims])
            else:
                m = _mean(var, s)
                m.attrs, m.encoding = var.attrs, _float_encoding(var.encoding)
                out[name] = m
        coord = ds[s.dim] if s.dim in ds.coords else None
        others = {c: ds[c].isel({s.dim: nearest_indices(s)}) for c in ds.coords
                  if c != s.dim and s.dim in ds[c].dims}
        new = xr.Dataset(out, attrs=ds.attrs)
        keep = {c: ds[c] for c in ds.coords if s.dim not in ds[c].dims and c not in new.coords}
        new = new.assign_coords(keep)
        if coord is not None:
            values = _new_coord(coord, s, s.dim in regular_dims)
            new = new.assign_coords({s.dim: xr.Variable(s.dim, values, coord.attrs, coord.encoding)})
        if others:
            new = new.assign_coords({c: v.variable for c, v in others.items()})
        ds = new
    return ds


def _float_encoding(enc: dict) -> dict:
    """Means are no longer the packed integers of the source: keep only what still applies."""
    return {k: v for k, v in enc.items() if k in ("units", "calendar", "grid_mapping", "_FillValue")
            and not (k == "_FillValue" and isinstance(v, (int, np.integer)))}
