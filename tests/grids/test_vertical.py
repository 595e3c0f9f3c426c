"""Parametric vertical coordinates (CF 1.11 section 4.3.3, Appendix D): model levels served on their own
values, the metadata naming the kind and formula, NetCDF answers keeping the formula terms subset so
cf-xarray computes the physical coordinate exactly as from the source."""

from __future__ import annotations

import cf_xarray  # noqa: F401
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.conftest import client_for

from .conftest import GRIDS, covjson, netcdf_answer as _nc

HH = GRIDS["hh"]


def test_hybrid_height_metadata_names_the_kind(grids_client):
    doc = grids_client.get("/collections/hh").json()
    vertical = doc["extent"]["vertical"]
    assert vertical["name"] == "model_level_number" and vertical["values"][0] == "1"
    assert "atmosphere_hybrid_height_coordinate" in vertical["vrs"] and "orog" in vertical["vrs"]
    assert vertical["formula_terms"] == {"a": "level_height", "b": "sigma", "orog": "surface_altitude"}
    z = grids_client.get("/collections/hh/coverage/domainset").json()["generalGrid"]["axis"][2]
    assert z["axisLabel"] == "model_level_number" and "atmosphere_hybrid_height_coordinate" in z["description"]
    cov = covjson(grids_client, "/collections/hh/position", coords="POINT(-3.1 52.4)")
    vcrs = [r["system"] for r in cov["domain"]["referencing"] if r["coordinates"] == ["z"]][0]
    assert vcrs["type"] == "VerticalCRS"
    assert "atmosphere_hybrid_height_coordinate" in vcrs["cs"]["csAxes"][0]["name"]["en"]
    assert vcrs["cs"]["csAxes"][0]["id"].endswith("/atmosphere_hybrid_height_coordinate/")
    assert "bnds" not in doc["extent"].get("custom", []) and "bnds" not in str(doc["data_queries"]["position"])


def test_hybrid_height_netcdf_keeps_formula_terms(grids_client, tmp_path):
    src = xr.open_dataset(HH.path)
    ds = _nc(grids_client, tmp_path, "/collections/hh/cube", bbox="-3.1,52.4,-3.08,52.42", z="2/4", f="NetCDF")
    levels = ds.model_level_number.values
    assert list(levels) == [2, 3, 4]
    sel = src.sel(model_level_number=levels, grid_latitude=ds.grid_latitude, grid_longitude=ds.grid_longitude)
    for name in ("level_height", "sigma", "surface_altitude", "level_height_bnds", "sigma_bnds"):
        np.testing.assert_allclose(ds[name].values, sel[name].values, err_msg=name)
    assert ds.level_height.attrs["formula_terms"] == "a: level_height b: sigma orog: surface_altitude"
    # z = a + b * orog from the answer alone, its terms found through its own formula_terms attribute
    # (cf-xarray's decode_vertical_coords only reads formula terms on a dimension coordinate, which this
    # UM file, like the source, does not have)
    terms = dict(zip(*[iter(ds.level_height.attrs["formula_terms"].replace(":", "").split())] * 2))
    altitude = ds[terms["a"]] + ds[terms["b"]] * ds[terms["orog"]]
    expected = sel.level_height + sel.sigma * sel.surface_altitude
    np.testing.assert_allclose(altitude.transpose(*expected.dims).values, expected.values, rtol=1e-6)


@pytest.fixture(scope="module")
def synthetic_levels(tmp_path_factory):
    """A hybrid sigma-pressure file (ap, b, ps) and an ocean sigma file (no units on sigma)."""
    tmp = tmp_path_factory.mktemp("levels")
    lat, lon = np.arange(40.0, 46.0, 1.0), np.arange(0.0, 8.0, 1.0)
    time = pd.date_range("2020-01-01", periods=2, freq="D")
    lev = np.array([0.2, 0.5, 0.8, 0.95])
    ap = np.array([15000.0, 20000.0, 8000.0, 1000.0])
    b = np.array([0.05, 0.3, 0.7, 0.94])
    ps = 100000.0 + 100.0 * np.arange(2)[:, None, None] + 10.0 * np.arange(6)[None, :, None] + np.arange(8)[None, None, :]
    ta = 200.0 + np.arange(2 * 4 * 6 * 8, dtype="float64").reshape(2, 4, 6, 8) / 10
    atm = xr.Dataset(
        {"ta": (("time", "lev", "lat", "lon"), ta, {"units": "K", "standard_name": "air_temperature"}),
         "ps": (("time", "lat", "lon"), ps, {"units": "Pa", "standard_name": "surface_air_pressure"}),
         "ap": (("lev",), ap, {"units": "Pa", "long_name": "vertical coordinate formula term: ap(k)"}),
         "b": (("lev",), b, {"units": "1", "long_name": "vertical coordinate formula term: b(k)"})},
        coords={"time": time, "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
                "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"}),
                "lev": ("lev", lev, {"standard_name": "atmosphere_hybrid_sigma_pressure_coordinate", "units": "1",
                                     "positive": "down", "axis": "Z", "formula_terms": "ap: ap b: b ps: ps"})})
    atm.to_netcdf(tmp / "hybrid_sigma_pressure.nc")
    sigma = np.array([-0.9, -0.5, -0.1])
    depth = 50.0 + np.arange(6)[:, None] * 10 + np.arange(8)[None, :]
    zeta = 0.1 * np.arange(2)[:, None, None] + np.zeros((2, 6, 8))
    ocean = xr.Dataset(
        {"temp": (("time", "sigma", "lat", "lon"), ta[:, :3], {"units": "degC"}),
         "depth": (("lat", "lon"), depth, {"units": "m", "standard_name": "sea_floor_depth_below_geoid"}),
         "zeta": (("time", "lat", "lon"), zeta, {"units": "m", "standard_name": "sea_surface_height_above_geoid"})},
        coords={"time": time, "lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"}),
                "sigma": ("sigma", sigma, {"standard_name": "ocean_sigma_coordinate", "positive": "up",
                                           "formula_terms": "sigma: sigma eta: zeta depth: depth"})})
    ocean.to_netcdf(tmp / "ocean_sigma.nc")
    cols = {"atm": {"path": str(tmp / "hybrid_sigma_pressure.nc")}, "ocean": {"path": str(tmp / "ocean_sigma.nc")}}
    with client_for(cols, tmp) as c:
        yield c, atm, ocean


def test_hybrid_sigma_pressure(synthetic_levels, tmp_path):
    client, atm, _ = synthetic_levels
    doc = client.get("/collections/atm").json()
    assert doc["extent"]["vertical"]["name"] == "lev"
    assert "atmosphere_hybrid_sigma_pressure_coordinate" in doc["extent"]["vertical"]["vrs"]
    assert set(doc["parameter_names"]) == {"ta", "ps"}  # ap and b are formula terms, not fields on the grid
    ds = _nc(client, tmp_path, "/collections/atm/position", coords="POINT(3.2 42.1)", z="0.5,0.95",
             **{"parameter-name": "ta"}, f="NetCDF")
    src = atm.sel(lat=42.0, lon=3.0).sel(lev=[0.5, 0.95])
    np.testing.assert_allclose(ds.ap.values, src.ap.values)
    np.testing.assert_allclose(ds.b.values, src.b.values)
    np.testing.assert_allclose(ds.ps.values, src.ps.values)  # per time step at the answering cell
    ds.cf.decode_vertical_coords(outnames={"lev": "p"})
    np.testing.assert_allclose(ds.p.transpose("time", "lev").values,
                               (src.ap + src.b * src.ps).transpose("time", "lev").values)


def test_ocean_sigma_without_units_is_the_z_axis(synthetic_levels, tmp_path):
    client, _, ocean = synthetic_levels
    doc = client.get("/collections/ocean").json()
    assert doc["extent"]["vertical"]["name"] == "sigma"
    assert "ocean_sigma_coordinate" in doc["extent"]["vertical"]["vrs"]
    ds = _nc(client, tmp_path, "/collections/ocean/cube", bbox="1,41,3,43", z="-0.5", f="NetCDF")
    src = ocean.sel(lat=ds.lat, lon=ds.lon, sigma=[-0.5])
    np.testing.assert_allclose(ds.depth.values, src.depth.values)
    np.testing.assert_allclose(ds.zeta.values, src.zeta.values)
    ds.cf.decode_vertical_coords(outnames={"sigma": "z"})
    expected = src.zeta + src.sigma * (src.depth + src.zeta)
    np.testing.assert_allclose(ds.z.transpose(*expected.dims).values, expected.values)
