"""Real clients against the real CLI server: OWSLib's Coverages client and GDAL's OGC API driver."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import rasterio
from owslib.ogcapi.coverages import Coverages

from tests.conftest import DATASETS


def test_owslib_lists_and_fetches_coverages(live_server, sources):
    api = Coverages(live_server)
    ids = api.coverages()
    assert {"coads", "eraint", "mur-sst", "cmip5-pr", "basin-mask", "landsat-rgb", "cogeo", "shade"} <= set(ids)
    assert "places" not in ids and "lakes" not in ids
    data = api.coverage("coads", subset=[("COADSX", -10, 20), ("COADSY", 40, 60)], properties=["SST"],
                        datetime="2000-03-01T00:00:00Z/2000-06-01T00:00:00Z")
    doc = json.load(data)
    exp = sources("coads").SST.sel(COADSX=slice(-10, 20), COADSY=slice(40, 60), TIME=slice("2000-03-01", "2000-06-01"))
    values = np.array([np.nan if v is None else v for v in doc["ranges"]["SST"]["values"]], dtype="float64")
    np.testing.assert_allclose(values.reshape(exp.shape), exp.values, rtol=1e-6, equal_nan=True)


def test_owslib_scaling(live_server):
    doc = json.load(Coverages(live_server).coverage("coads", properties=["AIRT"], scale_size={"COADSX": 45, "COADSY": 30},
                                                     subset={"TIME": ['"2000-01-16T06:00:00Z"', '"2000-01-16T06:00:00Z"']}))
    assert doc["ranges"]["AIRT"]["shape"] == [1, 30, 45]
    doc = json.load(Coverages(live_server).coverage("basin-mask", scale_factor=4, subset={"Z": [0, 0]}))
    assert doc["ranges"]["basin"]["shape"] == [1, 45, 90]


gdal = pytest.mark.skipif(shutil.which("gdalinfo") is None or shutil.which("gdal_translate") is None,
                          reason="GDAL command-line tools are not installed")


def run_gdal(args: list[str], tmp_path) -> str:
    env = {**os.environ, "GDAL_DEFAULT_WMS_CACHE_PATH": str(tmp_path / "wmscache"), "GDAL_HTTP_TIMEOUT": "60"}
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


@gdal
def test_gdalinfo_opens_a_coverage_without_options(live_server, tmp_path):
    out = run_gdal(["gdalinfo", f"OGCAPI:{live_server}/collections/coads"], tmp_path)
    assert "Driver: OGCAPI/OGCAPI" in out and "Size is 180, 90" in out
    assert "Origin = (-180.000000000000000,90.000000000000000)" in out
    assert "Pixel Size = (2.000000000000000,-2.000000000000000)" in out
    assert out.count("Type=Float32") == 4


@gdal
def test_gdal_reads_coads_values(live_server, tmp_path, sources):
    target = tmp_path / "coads.tif"
    run_gdal(["gdal_translate", f"OGCAPI:{live_server}/collections/coads", str(target)], tmp_path)
    src = sources("coads").isel(TIME=0)  # GeoTIFF and GDAL see the first time step
    with rasterio.open(target) as ds:
        data = ds.read()
    for i, v in enumerate(["SST", "AIRT", "UWND", "VWND"]):
        np.testing.assert_allclose(data[i], src[v].values[::-1], equal_nan=True, err_msg=v)


@gdal
def test_gdal_reads_the_utm_scene(live_server, tmp_path):
    target = tmp_path / "rgb.tif"
    info = run_gdal(["gdalinfo", f"OGCAPI:{live_server}/collections/landsat-rgb"], tmp_path)
    assert "Size is 791, 718" in info and info.count("Type=Byte") == 3
    run_gdal(["gdal_translate", f"OGCAPI:{live_server}/collections/landsat-rgb", str(target)], tmp_path)
    with rasterio.open(target) as got, rasterio.open(DATASETS / "RGB.byte.tif") as src:
        np.testing.assert_array_equal(got.read(), src.read())
        assert got.transform.almost_equals(src.transform, precision=1e-6)


@gdal
def test_gdal_overviews_come_from_server_side_scaling(live_server, tmp_path):
    target = tmp_path / "rgb_quarter.tif"
    run_gdal(["gdal_translate", "-outsize", "25%", "25%", f"OGCAPI:{live_server}/collections/landsat-rgb", str(target)], tmp_path)
    with rasterio.open(target) as got, rasterio.open(DATASETS / "RGB.byte.tif") as src:
        small, full = got.read().astype(float), src.read().astype(float)
        assert small.shape == (3, 179, 197)
        for b in range(3):  # the same picture, at a quarter of the size
            assert abs(small[b].mean() - full[b].mean()) < 2.0
            assert abs((small[b] == 0).mean() - (full[b] == 0).mean()) < 0.02
