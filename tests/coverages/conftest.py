"""Ground truth for the Coverages tests: the bundled files read directly (xarray / rasterio), never via the server."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass

import numpy as np
import pytest
import rasterio
import xarray as xr

from tests.conftest import DATASETS, open_source

OGC_EXC = "http://www.opengis.net/def/exceptions/ogcapi-common-1/1.0/"


@dataclass
class Grid:
    """A bundled grid: its file, dimension names and the variables the server publishes."""

    id: str
    file: str
    x: str
    y: str
    t: str | None = None
    z: str | None = None
    others: tuple = ()

    def source(self) -> xr.Dataset:
        """The file as xarray sees it; GeoTIFF bands become band_1.. on (y, x), nodata as NaN."""
        if self.file.endswith(".tif"):
            ds = open_source(self.file)
            return xr.Dataset({f"band_{int(b)}": ds["band_data"].sel(band=b, drop=True) for b in ds["band"].values})
        return open_source(self.file)

    def raw_tif(self) -> np.ndarray:
        with rasterio.open(DATASETS / self.file) as src:
            return src.read()


GRIDS = {g.id: g for g in (
    Grid("coads", "coads_sst.nc", "COADSX", "COADSY", t="TIME"),
    Grid("eraint", "eraint_uvz.nc", "longitude", "latitude", z="level", others=("month",)),
    Grid("mur-sst", "analysed_sst.zarr", "lon", "lat", t="time"),
    Grid("cmip5-pr", "cmip5_rcp85_pcp_pctl25.nc", "lon", "lat", t="time"),
    Grid("basin-mask", "basin_mask.nc", "X", "Y", z="Z"),
    Grid("landsat-rgb", "RGB.byte.tif", "x", "y"),
    Grid("cogeo", "cogeo.tif", "x", "y"),
    Grid("shade", "shade.tif", "x", "y"),
)}


def inside(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Positions of cell centres within [lo, hi] (the documented selection rule)."""
    values = np.asarray(values, dtype="float64")  # as the server does: float32 coordinates compared exactly
    return np.flatnonzero((values >= lo) & (values <= hi))


def netcdf(content: bytes) -> xr.Dataset:
    with tempfile.NamedTemporaryFile(suffix=".nc") as f:
        f.write(content)
        f.flush()
        with xr.open_dataset(f.name, decode_coords="all") as ds:
            return ds.load()


def netcdf_raw(content: bytes) -> xr.Dataset:
    """Without CF decoding: to check the attributes as written."""
    with tempfile.NamedTemporaryFile(suffix=".nc") as f:
        f.write(content)
        f.flush()
        with xr.open_dataset(f.name, decode_cf=False) as ds:
            return ds.load()


def geotiff(content: bytes):
    """(array, profile, descriptions, tags per band, image-structure tags, overview levels) of a GeoTIFF."""
    with rasterio.MemoryFile(io.BytesIO(content)) as mem, mem.open() as src:
        return {
            "data": src.read(), "profile": dict(src.profile), "crs": src.crs, "transform": src.transform,
            "nodata": src.nodata, "descriptions": src.descriptions,
            "tags": [src.tags(i) for i in range(1, src.count + 1)],
            "structure": src.tags(ns="IMAGE_STRUCTURE"), "overviews": src.overviews(1),
        }


def assert_error(r, status: int, parameter: str | None = None, *words: str):
    assert r.status_code == status, r.text[:500]
    body = r.json()
    assert body["status"] == status
    assert body["type"].startswith(OGC_EXC)
    if parameter:
        assert body.get("parameter") == parameter, body
    for w in words:
        assert w.lower() in body["detail"].lower(), body["detail"]


@pytest.fixture(scope="session")
def sources():
    cache = {}

    def get(cid: str) -> xr.Dataset:
        if cid not in cache:
            cache[cid] = GRIDS[cid].source()
        return cache[cid]

    return get
