"""One opener per format, all returning a lazy, dask-backed xarray Dataset."""

from __future__ import annotations

import glob as _glob
import warnings
from pathlib import Path

import dask
import xarray as xr

from ..companions import promote
from .times import open_decoded


def open_gridded(path: Path | str, fmt: str, chunks: dict | None = None, *, cc=None, config=None,
                 version: str | None = None) -> xr.Dataset:
    """Open lazily with the file's own chunking (`chunks={}`) unless the config says otherwise.

    A URL (`str` with `scheme://`), a kerchunk reference or an Icechunk repository needs the collection's
    config `cc` (storage_options, icechunk) and the server's `config` (remote); `version` is the
    source's fingerprint, which keys their chunks in the chunk cache (a reloaded store never serves
    the old chunks)."""
    chunks = chunks if chunks else {}
    virtual = fmt in ("kerchunk", "icechunk")
    remote = virtual or is_url(str(path))
    with warnings.catch_warnings():
        # real archives carry both missing_value and _FillValue, or odd chunking: not the user's problem
        warnings.simplefilter("ignore")
        from ..grids.detect import prepare

        if virtual:
            from .virtual import open_virtual

            raw = open_virtual(str(path), fmt, chunks, cc, config.remote)
        elif remote:
            from .remote import open_remote

            raw = open_remote(str(path), fmt, chunks, cc.storage_options, config.remote)
        else:
            raw = _open(path, fmt, chunks)
        # 2-D lat/lon grids: coordinates and time made usable; grid mappings and bounds become coordinates
        ds = promote(prepare(raw))
    from .chunk_cache import attach  # decoded chunks shared by requests (limits.chunk_cache_bytes; 0: off)

    if remote:
        return attach(ds, str(path), fmt, version=version or "unversioned")
    text = str(path)
    return attach(ds, path, fmt, files=sorted(_glob.glob(text)) if any(ch in text for ch in "*?[") else None)


def is_url(path: str) -> bool:
    from ..config import is_url as _is_url

    return _is_url(path)


def _open(path: Path, fmt: str, chunks: dict) -> xr.Dataset:
    text = str(path)
    if any(ch in text for ch in "*?["):
        files = sorted(_glob.glob(text))
        if not files:
            raise ValueError(f"no files match {path.name!r}")
        from .many import open_many

        return open_many(files, chunks)
    if fmt == "netcdf":
        return _open_netcdf(path, chunks)
    if fmt == "zarr":
        return _open_zarr(path, chunks)
    if fmt == "geotiff":
        return _open_geotiff(path, chunks)
    if fmt == "grib":
        from .grib import open_grib

        return open_grib(path, chunks)
    raise ValueError(f"format {fmt!r} is not a gridded format")


NETCDF_CHUNK = "16MiB"


def _open_netcdf(path: Path, chunks: dict) -> xr.Dataset:
    """NetCDF with dask chunks that are whole multiples of the file's own, up to ~16 MiB each.

    HDF5/NetCDF reads any hyperslab, so a dask chunk only sets how many tasks a request
    costs, and the library serialises reads behind one lock anyway. Files chunked one
    record (time step) at a time would otherwise cost one task per time step: a point
    series on COADS took 84 ms as 48 tasks and takes 24 ms as 4.
    """
    if chunks:  # the config chose
        return open_decoded(lambda **kw: xr.open_dataset(path, chunks=chunks, **kw))
    with dask.config.set({"array.chunk-size": NETCDF_CHUNK}):
        return open_decoded(lambda **kw: xr.open_dataset(path, chunks="auto", **kw))


def _open_zarr(path: Path, chunks: dict) -> xr.Dataset:
    consolidated = (path / ".zmetadata").exists() or (path / "zarr.json").exists() and None
    try:
        return open_decoded(lambda **kw: xr.open_zarr(
            path, chunks=chunks, consolidated=bool(consolidated) if consolidated is not None else None, **kw))
    except (KeyError, ValueError):
        return open_decoded(lambda **kw: xr.open_zarr(path, chunks=chunks, consolidated=False, **kw))


def _open_geotiff(path: Path | str, chunks: dict, opener=None) -> xr.Dataset:
    """A GeoTIFF as a Dataset with one variable per band (`band_1`, ...) on (y, x), keeping spatial_ref.

    Values are those of `rioxarray.open_rasterio(path, mask_and_scale=True)` band by band
    (GDAL band scale/offset applied, nodata as NaN, e.g. int16 NDVI * 0.001 -> float32;
    see `geotiff_bands.decode_band`),
    for every band that has a scale or offset, or is a float band with a nodata value.
    Their encoding keeps the packing (`dtype`, `scale_factor`, `add_offset`, `_FillValue`)
    so NetCDF and Zarr answers store the same integers a CF reader decodes back.
    Integer bands without scale/offset stay integers (RGB imagery keeps its bytes) with
    their own nodata as the `_FillValue` attribute, which the encoders treat as missing.
    """
    import rioxarray

    from .geotiff_bands import band_packing, decode_band

    more = {"opener": opener} if opener is not None else {}  # an fsspec filesystem: a remote COG
    raw = rioxarray.open_rasterio(path, chunks=chunks or True, mask_and_scale=False, **more)
    if opener is not None:
        from .remote import on_close

        on_close(raw.close)  # the GDAL dataset reads through Python: closed with the collection
    packing = band_packing(path, opener)
    names = list(raw.attrs.get("long_name", ())) if isinstance(raw.attrs.get("long_name"), tuple) else []
    drop = ("long_name", "units", "_FillValue", "scale_factor", "add_offset", "scales", "offsets")
    out = {}
    for i, b in enumerate(raw["band"].values):
        p = packing[i]
        name = names[i] if i < len(names) and names[i] else f"band_{int(b)}"
        band = raw.sel(band=b, drop=True)
        if p.decode:
            band = decode_band(band, p)
        attrs = {k: v for k, v in raw.attrs.items() if k not in drop}
        attrs["long_name"] = f"band {int(b)}"
        if p.units:
            attrs["units"] = p.units
        encoding = {"grid_mapping": "spatial_ref"}
        if p.decode:
            encoding.update(p.encoding())
        elif p.nodata is not None:
            attrs["_FillValue"] = p.nodata
        band.attrs = attrs
        band.encoding = encoding
        out[name] = band
    ds = xr.Dataset(out)
    ds["x"].attrs.update({"axis": "X", "standard_name": "projection_x_coordinate"})
    ds["y"].attrs.update({"axis": "Y", "standard_name": "projection_y_coordinate"})
    if ds.rio.crs is not None:
        ds["x"].attrs["units"] = ds["y"].attrs["units"] = "m" if ds.rio.crs.is_projected else "degrees"
    return ds
