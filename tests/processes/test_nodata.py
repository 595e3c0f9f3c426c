"""Processes leave a GeoTIFF's integer nodata out of their statistics (Landsat 0, hillshade 255)."""

from __future__ import annotations

import tempfile

import numpy as np
import rioxarray
import xarray as xr

from tests.conftest import DATASETS


def _execute(client, process: str, inputs: dict) -> xr.Dataset:
    r = client.post(f"/processes/{process}/execution",
                    json={"inputs": inputs, "outputs": {"result": {"transmissionMode": "value"}}})
    assert r.status_code == 200, r.text[:300]
    with tempfile.NamedTemporaryFile(suffix=".nc") as f:
        f.write(r.content)
        f.flush()
        with xr.open_dataset(f.name) as ds:
            return ds.load()


def _band(name: str, band: int = 1) -> xr.DataArray:
    da = rioxarray.open_rasterio(DATASETS / name, mask_and_scale=False).sel(band=band, drop=True)
    return da.where(da != da.rio.nodata)


def test_coarsen_mean_skips_landsat_nodata(client):
    got = _execute(client, "coarsen", {"collection": "landsat-rgb", "variables": "band_1", "factors": {"x": 10, "y": 10}})
    expected = _band("RGB.byte.tif").coarsen(x=10, y=10, boundary="trim").mean()
    values = got["band_1"].transpose("y", "x").values
    assert values.shape == expected.shape
    np.testing.assert_allclose(values, expected.values, rtol=1e-6, equal_nan=True)
    assert np.isnan(values).any() and not (values == 0).all(axis=None)  # all-nodata blocks are missing, not 0


def test_coarsen_max_skips_hillshade_nodata(client):
    got = _execute(client, "coarsen", {"collection": "shade", "variables": "band_1", "factors": {"x": 16, "y": 16},
                                       "reducer": "max"})
    expected = _band("shade.tif").coarsen(x=16, y=16, boundary="trim").max()
    np.testing.assert_array_equal(got["band_1"].transpose("y", "x").values, expected.values)
    assert not (got["band_1"].values == 255).any()
