"""Stock `xr.open_zarr(url)` (zarr 3 + fsspec/aiohttp) against a server: same data, times and CRS as the source."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tests.conftest import open_source

from .conftest import GEOTIFFS, SOURCES


def _open(base: str, cid: str) -> xr.Dataset:
    return xr.open_zarr(f"{base}/collections/{cid}/zarr")  # exactly what users type


@pytest.mark.parametrize("cid", [c for c in SOURCES if c not in GEOTIFFS])
def test_roundtrip_equals_source(live_server, cid):
    remote = _open(live_server, cid)
    src = open_source(SOURCES[cid])
    assert set(remote.data_vars) == set(src.data_vars)
    assert set(remote.coords) == set(src.coords)
    for name in src.variables:
        xr.testing.assert_identical(remote[name].load().variable, src[name].load().variable)
    for name in src.data_vars:
        assert remote[name].dims == src[name].dims


def test_noleap_calendar_decodes_to_cftime(live_server):
    import cftime

    remote = _open(live_server, "cmip5-pr")
    first = remote.time.values[0]
    assert isinstance(first, cftime.DatetimeNoLeap)
    assert remote.time.encoding["calendar"] == "365_day"
    assert remote.time.values[-1] == open_source(SOURCES["cmip5-pr"]).time.values[-1]


@pytest.mark.parametrize("cid", GEOTIFFS)
def test_geotiff_roundtrip_keeps_bands_and_crs(live_server, cid):
    import rioxarray  # noqa: F401 - .rio accessor

    remote = _open(live_server, cid)
    src = open_source(SOURCES[cid])  # xarray's rasterio engine: band_data on (band, y, x), nodata masked
    assert "spatial_ref" in remote.coords
    assert remote.rio.crs == src.rio.crs
    assert remote.rio.transform() == src.rio.transform()
    np.testing.assert_array_equal(remote.x.values, src.x.values)
    np.testing.assert_array_equal(remote.y.values, src.y.values)
    bands = [f"band_{int(b)}" for b in src.band.values]
    assert sorted(remote.data_vars) == sorted(bands)
    for i, name in zip(src.band.values, bands):
        assert remote[name].dims == ("y", "x")
        np.testing.assert_array_equal(remote[name].values, src.band_data.sel(band=i).values)


# collection: (variable, selection, number of chunks it overlaps)
WINDOWS = {
    "coads": ("SST", {"TIME": "2000-03", "COADSY": slice(30, 40), "COADSX": slice(-40, -20)}, 1),
    # crosses the longitude chunk boundary at 0°
    "eraint": ("z", {"month": 1, "level": 500, "latitude": slice(60, 50), "longitude": slice(-3, 3)}, 2),
    # crosses the lon chunk boundary (53 columns a chunk): two chunks
    "cmip5-pr": ("pr", {"time": slice("2050-01-01", "2052-12-31"), "lat": slice(50, 45), "lon": slice(-100, -94)}, 2),
    "mur-sst": ("analysed_sst", {"time": "2005-12-03", "lat": slice(40.2, 40.3), "lon": slice(-27.6, -27.5)}, 1),
}


def _expected_keys(remote: xr.Dataset, name: str, sel: dict) -> set[str]:
    """Chunk keys of `name` that the window overlaps, from the positions it selects."""
    var = remote[name]
    pos = xr.DataArray(np.arange(var.size).reshape(var.shape), dims=var.dims, coords=var.coords)
    picked = np.atleast_1d(pos.sel(sel).values).ravel()
    chunks = var.encoding["chunks"]
    keys = set()
    for flat in picked:
        index = np.unravel_index(flat, var.shape)
        keys.add(".".join(str(i // c) for i, c in zip(index, chunks)))
    return keys


@pytest.mark.parametrize("cid", sorted(WINDOWS))
def test_small_window_reads_only_its_chunks(app, app_server, cid):
    name, sel, n_chunks = WINDOWS[cid]
    reads = app.state.zarr.reads
    remote = _open(app_server, cid)
    want = _expected_keys(remote, name, sel)
    assert len(want) == n_chunks
    before = {k: n for k, n in reads.items() if k[:2] == (cid, name)}
    got = remote[name].sel(sel).load()
    assert got.size > 0
    fetched = {k[2] for k, n in reads.items() if k[:2] == (cid, name) and n > before.get(k, 0)}
    assert fetched == want
    src = open_source(SOURCES[cid])[name].sel(sel).load()
    xr.testing.assert_identical(got.variable, src.variable)
