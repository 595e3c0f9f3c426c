"""NetCDF, GeoJSON and CSV answers, and format negotiation by f= and Accept."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import xarray as xr

from tests.conftest import open_source

from .conftest import query


def _save(tmp_path, content: bytes):
    path = tmp_path / "answer.nc"
    path.write_bytes(content)
    return path


def _netcdf(client, tmp_path, path, **params) -> xr.Dataset:
    r = query(client, path, f="NetCDF", **params)
    assert r.headers["content-type"] == "application/x-netcdf"
    with xr.open_dataset(_save(tmp_path, r.content)) as ds:
        return ds.load()


def test_netcdf_area_keeps_cf_attributes(client, tmp_path):
    src = open_source("coads_sst.nc")
    ds = _netcdf(client, tmp_path, "/collections/coads/area", coords="POLYGON((-30 30,-20 30,-20 40,-30 40,-30 30))",
                 parameter_name="SST")
    exp = src.SST.sel(COADSX=slice(-30, -20), COADSY=slice(30, 40))
    np.testing.assert_allclose(ds.SST.values, exp.values, rtol=1e-6)
    assert ds.SST.attrs["units"] == "Deg C" and ds.SST.attrs["long_name"] == "SEA SURFACE TEMPERATURE"
    assert ds.Conventions.startswith("CF")


def test_netcdf_point_series_cftime_calendar(client, tmp_path):
    r = query(client, "/collections/cmip5-pr/position", coords="POINT(-100.2 50.3)", f="netcdf")
    path = _save(tmp_path, r.content)
    with xr.open_dataset(path, decode_times=False) as raw:
        assert raw.time.attrs["calendar"] in ("noleap", "365_day")
    ds = xr.open_dataset(path, use_cftime=True).load()
    assert ds.featureType == "timeSeries" and ds.pr.attrs["units"] == "mm/day"
    src = open_source("cmip5_rcp85_pcp_pctl25.nc").pr.sel(lon=-100.2, lat=50.3, method="nearest")
    np.testing.assert_allclose(ds.pr.values, src.values, rtol=1e-6)


def test_netcdf_landsat_keeps_grid_mapping(client, tmp_path):
    ds = _netcdf(client, tmp_path, "/collections/landsat-rgb/cube", bbox="200000,2700000,203000,2703000", crs="EPSG:32618",
                 parameter_name="band_1")
    assert ds.band_1.attrs.get("grid_mapping", ds.band_1.encoding.get("grid_mapping")) == "spatial_ref"
    assert "spatial_ref" in ds.variables
    assert ds.sizes["x"] == ds.sizes["y"] == 10


def test_netcdf_trajectory(client, tmp_path):
    ds = _netcdf(client, tmp_path, "/collections/coads/trajectory", coords="LINESTRING(-40 39.2,-30.5 39.2)", parameter_name="SST")
    assert ds.featureType == "trajectory" and ds.sizes["points"] == 5
    assert ds.COADSX.values.tolist() == [-39.0, -37.0, -35.0, -33.0, -31.0]


def test_geojson_position(client):
    src = open_source("coads_sst.nc").SST.sel(COADSX=-25, COADSY=39)
    r = query(client, "/collections/coads/position", coords="POINT(-25.3 38.6)", parameter_name="SST", f="GeoJSON")
    assert r.headers["content-type"] == "application/geo+json"
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 12
    f0 = doc["features"][0]
    assert f0["geometry"] == {"type": "Point", "coordinates": [-25.0, 39.0]}
    assert f0["properties"]["datetime"] == "2000-01-16T06:00:00Z"
    np.testing.assert_allclose([f["properties"]["SST"] for f in doc["features"]], src.values, rtol=1e-6)
    sst = next(p for p in doc["parameters"] if p["id"] == "SST")  # EDR GeoJSON: an array of parameters
    assert sst["unit"]["label"]["en"] == "Deg C"
    assert f0["properties"]["parameter-name"] == ["SST"] and f0["properties"]["edrqueryendpoint"].startswith("http")


def test_geojson_radius_lists_only_cells_inside(client):
    doc = query(client, "/collections/coads/radius", coords="POINT(-30 40)", within="250", within_units="km", parameter_name="SST",
                datetime="2000-01-16T06:00:00Z", f="geojson").json()
    coords = sorted(tuple(f["geometry"]["coordinates"]) for f in doc["features"])
    assert coords == [(-31.0, 39.0), (-31.0, 41.0), (-29.0, 39.0), (-29.0, 41.0)]


def test_csv_trajectory_and_nulls(client):
    r = query(client, "/collections/coads/trajectory", coords="LINESTRING(-60 -17,-56 -17)", parameter_name="SST,AIRT",
              datetime="2000-01-16T06:00:00Z", f="csv")
    assert r.headers["content-type"].startswith("text/csv")
    df = pd.read_csv(io.StringIO(r.text))
    assert list(df.columns) == ["longitude", "latitude", "datetime", "SST", "AIRT"]
    assert df["SST"].isna().any()  # inland South America: no SST
    src = open_source("coads_sst.nc").isel(TIME=0).sel(COADSY=-17, COADSX=df.longitude.values)
    np.testing.assert_allclose(df["AIRT"].values, src.AIRT.values, rtol=1e-6)


def test_csv_eraint_extra_dimension_column(client):
    r = query(client, "/collections/eraint/position", coords="POINT(10.2 45.1)", parameter_name="u", f="csv")
    df = pd.read_csv(io.StringIO(r.text))
    assert list(df.columns) == ["longitude", "latitude", "z", "month", "u"]
    assert len(df) == 6 and sorted(set(df.month)) == [1, 7]


def test_csv_projected_uses_x_y(client):
    """Without crs a projected collection answers in CRS84 (its extent's CRS, /req/core/crs); crs=native gives x/y."""
    pts = "MULTIPOINT((-77.75 24.6),(-77.7 24.65))"
    r = query(client, "/collections/landsat-rgb/position", coords=pts, f="csv")
    df = pd.read_csv(io.StringIO(r.text))
    assert list(df.columns)[:2] == ["longitude", "latitude"] and len(df) == 2 and df.longitude.max() < -77
    from pyproj import Transformer
    (x0, x1), (y0, y1) = Transformer.from_crs("OGC:CRS84", "EPSG:32618", always_xy=True).transform(
        [-77.75, -77.7], [24.6, 24.65])
    r = query(client, "/collections/landsat-rgb/position", coords=f"MULTIPOINT(({x0} {y0}),({x1} {y1}))", f="csv",
              crs="EPSG:32618")
    df = pd.read_csv(io.StringIO(r.text))
    assert list(df.columns)[:2] == ["x", "y"] and len(df) == 2 and df.x.min() > 100000


def test_format_by_accept_and_aliases(client):
    base = {"coords": "POINT(-25 39)", "parameter-name": "SST"}
    assert client.get("/collections/coads/position", params=base,
                      headers={"Accept": "application/geo+json"}).headers["content-type"] == "application/geo+json"
    assert client.get("/collections/coads/position", params={**base, "f": "CoverageJSON"}).headers[
        "content-type"].startswith("application/prs.coverage+json")
    assert client.get("/collections/coads/position", params=base,
                      headers={"Accept": "application/json"}).headers["content-type"].startswith("application/prs.coverage+json")
    assert client.get("/collections/coads/position", params={**base, "f": "csv"}).status_code == 200
    assert client.get("/collections/coads/position", params={**base, "f": "json"}).headers[
        "content-type"].startswith("application/prs.coverage+json")
