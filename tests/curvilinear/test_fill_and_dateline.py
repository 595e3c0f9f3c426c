"""A regional curvilinear grid across the antimeridian whose lon/lat carry fill values (NaN, 1e20, NEMO's (0, 0)),
and whose lat/lon are plain data variables: fill cells are never answered, the extent crosses 180."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tests.conftest import client_for

from .conftest import cells_of, covjson, error, haversine


@pytest.fixture(scope="module")
def dateline(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dateline")
    J, I = np.meshgrid(np.arange(20), np.arange(30), indexing="ij")
    lon = 175.0 + 0.5 * I + 0.05 * J  # 175 .. 189.5: across the antimeridian, stored past 180
    lat = -10.0 + 0.5 * J + 0.02 * I
    lon[0, :5], lat[0, :5] = np.nan, np.nan  # missing
    lon[19, 25:], lat[19, 25:] = 1e20, 1e20  # fill value
    lon[10, 10:12], lat[10, 10:12] = 0.0, 0.0  # NEMO's eliminated land processors
    ds = xr.Dataset({"v": (("j", "i"), (100 * J + I).astype("float32")),
                     "glon": (("j", "i"), lon, {"standard_name": "longitude", "units": "degrees_east"}),
                     "glat": (("j", "i"), lat, {"standard_name": "latitude", "units": "degrees_north"})})
    path = tmp / "dateline.nc"
    ds.to_netcdf(path)
    with client_for({"d": {"path": str(path)}}, tmp) as c:
        yield c, ds


def test_latlon_data_variables_become_coordinates(dateline):
    c, _ = dateline
    doc = c.get("/collections/d").json()
    assert list(doc["parameter_names"]) == ["v"]


def test_extent_crosses_the_antimeridian(dateline):
    c, ds = dateline
    west, south, east, north = c.get("/collections/d").json()["extent"]["spatial"]["bbox"][0]
    assert 174 < west < 175 and -169.6 < east < -169  # west > east: across 180 (centres 175 .. 190.45)
    assert -10.5 < south < -9.9 and 0 < north < 1


def test_fill_cells_are_never_answered(dateline):
    c, ds = dateline
    error(c, "/collections/d/position", "coords", coords="POINT(0 0)")  # only fill cells sit at (0, 0)
    doc = covjson(c, "/collections/d/cube", bbox="170,-20,-160,10")
    pts = cells_of(doc)
    assert len(pts) == 20 * 30 - 5 - 5 - 2
    assert np.all(np.abs(pts[:, 1]) <= 90) and np.all((pts[:, 0] >= 175) | (pts[:, 0] <= -169.5))


@pytest.mark.parametrize("lon,lat", [(179.9, -5.0), (-179.9, -2.0), (185.0, 0.0), (176.0, -9.9)])
def test_position_across_the_antimeridian(dateline, lon, lat):
    c, ds = dateline
    glon, glat = ds.glon.values.copy(), ds.glat.values.copy()
    bad = ~np.isfinite(glon) | (np.abs(glat) > 90) | ((glon == 0) & (glat == 0))
    d = np.where(bad, np.inf, haversine(lon, lat, np.where(bad, 0, glon), np.where(bad, 0, glat)))
    iy, ix = np.unravel_index(np.argmin(d), d.shape)
    doc = covjson(c, "/collections/d/position", coords=f"POINT({lon} {lat})")
    assert doc["ranges"]["v"]["values"] == [100 * iy + ix]
    x = doc["domain"]["axes"]["x"]["values"][0]
    assert (x - glon[iy, ix]) % 360 == pytest.approx(0, abs=1e-9) or (glon[iy, ix] - x) % 360 == pytest.approx(0, abs=1e-9)
