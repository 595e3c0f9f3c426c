"""Per-band packing of a GeoTIFF: GDAL scale/offset, nodata and units, and whether the band is decoded.

GDAL keeps a scale, an offset and a nodata value per band (rasterio `scales`, `offsets`,
`nodatavals`); a reader gets the physical value as `raw * scale + offset`
(`gdallocationinfo -unscale`, `rioxarray.open_rasterio(mask_and_scale=True)`).
cubeserver serves the physical values, as rioxarray and xarray's CF decoding do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr


@dataclass(frozen=True)
class BandPacking:
    """How one band is stored: numpy `dtype`, `scale`/`offset` (1/0 when none), `nodata` or None."""

    dtype: np.dtype
    scale: float
    offset: float
    nodata: float | int | None
    units: str | None = None

    @property
    def scaled(self) -> bool:
        return self.scale != 1.0 or self.offset != 0.0

    @property
    def decode(self) -> bool:
        """Served decoded (floats, nodata as NaN): scaled bands and float bands with a finite nodata.

        Integer bands without scale/offset stay integers; their nodata is the `_FillValue`
        attribute every encoder masks (so an RGB scene keeps its bytes).
        """
        if self.scaled:
            return True
        return self.dtype.kind == "f" and self.nodata is not None and math.isfinite(self.nodata)

    def encoding(self) -> dict:
        """CF packing of a decoded band (xarray encoding): the stored type, scale_factor, add_offset, _FillValue.

        NetCDF and Zarr answers write the source's integers with these, so a CF reader
        decodes the same values; a float band keeps only its nodata as `_FillValue`.
        """
        enc: dict = {"dtype": self.dtype}
        if self.scaled:
            enc.update(scale_factor=self.scale, add_offset=self.offset)
        if self.nodata is not None and math.isfinite(self.nodata):
            enc["_FillValue"] = self.nodata
        return enc


def decoded_dtype(dtype: np.dtype) -> np.dtype:
    """The float type of decoded values, as rioxarray and xarray choose it: float32 up to 16-bit integers."""
    from xarray.core.dtypes import maybe_promote

    return np.dtype(maybe_promote(np.dtype(dtype))[0])


def decode_band(raw: xr.DataArray, p: BandPacking) -> xr.DataArray:
    """Lazily `raw * scale + offset` with nodata cells as NaN (GDAL's `-unscale`, rioxarray's mask_and_scale).

    Computed in float64 and then stored in `decoded_dtype` (int16 -> float32), so a value is the
    float nearest to the physical one (-406 * 0.001 -> float32(-0.406)), not float32 arithmetic's
    rounding of it. Attributes are kept; the caller sets the encoding (`BandPacking.encoding`).
    """
    values = raw.astype("float64")
    if p.nodata is not None and not (isinstance(p.nodata, float) and math.isnan(p.nodata)):
        values = values.where(raw != p.nodata)
    if p.scaled:
        values = values * p.scale + p.offset
    out = values.astype(decoded_dtype(p.dtype) if p.dtype.kind in "iu" else p.dtype)
    out.attrs = dict(raw.attrs)
    return out


def _typed(nodata, dtype: np.dtype):
    """The nodata value as the band's own type when it is one (0.0 on uint8 -> 0), else as given."""
    if nodata is None:
        return None
    nodata = float(nodata)
    if dtype.kind in "iu" and math.isfinite(nodata) and nodata.is_integer():
        info = np.iinfo(dtype)
        if info.min <= nodata <= info.max:
            return dtype.type(int(nodata)).item()
    return nodata


def band_packing(path: Path | str, opener=None) -> list[BandPacking]:
    """One BandPacking per band of the raster at `path` (raises rasterio's errors if unreadable);
    `opener`: an fsspec filesystem holding `path` (a remote COG)."""
    import rasterio

    with rasterio.open(path, **({"opener": opener} if opener is not None else {})) as src:
        out = []
        for i in range(src.count):
            dtype = np.dtype(src.dtypes[i])
            scale = src.scales[i] if src.scales[i] is not None else 1.0
            offset = src.offsets[i] if src.offsets[i] is not None else 0.0
            units = src.units[i] if src.units and src.units[i] else None
            out.append(BandPacking(dtype, float(scale), float(offset), _typed(src.nodatavals[i], dtype), units))
        return out
