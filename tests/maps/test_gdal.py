"""GDAL's OGCAPI driver (API=MAP) reads the maps through a real HTTP server: it finds the map description
link of the collection, picks the default style's PNG map and requests it with bbox/width/height; every
pixel of its output is the source cell's colour (cmo.thermal -2..30 from the bundled config)."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from tests.conftest import open_source, serve_in_thread

from .conftest import centres, colour, nearest_on_axis

pytestmark = pytest.mark.skipif(shutil.which("gdal_translate") is None, reason="GDAL command-line tools are not installed")


def _gdal(args, tmp_path):
    env = {**os.environ, "GDAL_DEFAULT_WMS_CACHE_PATH": str(tmp_path / "wmscache"), "GDAL_HTTP_TIMEOUT": "60"}
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_gdal_ogcapi_map_api_reads_the_map(app, tmp_path):
    out = tmp_path / "map.png"
    with serve_in_thread(app) as base:
        info = _gdal(["gdalinfo", "-oo", "API=MAP", "-oo", "CACHE=NO", f"OGCAPI:{base}/collections/coads"], tmp_path)
        assert "Driver: OGCAPI/OGCAPI" in info and "Band 4" in info
        _gdal(["gdal_translate", "-oo", "API=MAP", "-oo", "CACHE=NO", "-outsize", "360", "180", "-of", "PNG",
               f"OGCAPI:{base}/collections/coads", str(out)], tmp_path)
    img = np.asarray(Image.open(out).convert("RGBA"))
    assert img.shape == (180, 360, 4)
    src = open_source("coads_sst.nc")["SST"].isel(TIME=-1)
    xs, ys = centres((-180, -90, 180, 90), 360, 180)
    ix, okx, _ = nearest_on_axis(src["COADSX"].values.astype(float), xs)
    iy, oky, _ = nearest_on_axis(src["COADSY"].values.astype(float), ys)
    values = src.values[np.ix_(iy, ix)]
    ok = oky[:, None] & okx[None, :]
    data, nodata = ok & np.isfinite(values), ok & ~np.isfinite(values)
    assert data.sum() > 10000 and nodata.sum() > 1000
    assert (img[nodata][:, 3] == 0).all()
    assert (img[data] == colour(values, "cmo.thermal", -2, 30)[data]).all()
