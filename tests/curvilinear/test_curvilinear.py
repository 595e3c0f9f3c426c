"""Curvilinear grids (2-D lat/lon, no grid mapping), case c12: every EDR query and Coverages, checked against
independent computations on the source file (haversine argmin, shapely, pyproj Geod, numpy)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import rasterio
import shapely
import xarray as xr
from pyproj import Geod

from .conftest import cells_of, covjson, error, haversine, locate, nearest

C12 = "/collections/c12"


def src(c12):
    return c12.lon_rho.values, c12.lat_rho.values, c12.temp.values[0]


@pytest.mark.parametrize("cid", ["c12", "c12-axes"])
def test_position_is_the_nearest_cell_on_the_sphere(grids_client, c12, cid):
    """Case c12: lon -69, lat 41 -> 207 (eta 2, xi 7), with the cell's true lon/lat; also with axes.x/y set."""
    lon, lat, _ = src(c12)
    assert nearest(lon, lat, -69, 41)[:2] == (2, 7)
    doc = covjson(grids_client, f"/collections/{cid}/position", coords="POINT(-69 41)")
    assert doc["ranges"]["temp"]["values"] == [207.0]
    assert doc["domain"]["axes"]["x"]["values"] == [pytest.approx(lon[2, 7], abs=1e-12)]
    assert doc["domain"]["axes"]["y"]["values"] == [pytest.approx(lat[2, 7], abs=1e-12)]
    assert doc["domain"]["referencing"][0]["system"]["id"].endswith("CRS84")


@pytest.mark.parametrize("cid", ["c12", "c12-axes"])
def test_point_off_the_grid_is_400(grids_client, cid):
    detail = error(grids_client, f"/collections/{cid}/position", "coords", coords="POINT(5 5)")
    assert "outside" in detail and "-71.19" in detail  # the extent is the 2-D lon/lat range


@pytest.mark.parametrize("cid", ["c12", "c12-axes"])
def test_extent_is_the_lonlat_range_not_indices(grids_client, c12, cid):
    doc = grids_client.get(f"/collections/{cid}").json()
    west, south, east, north = doc["extent"]["spatial"]["bbox"][0]
    lon, lat, _ = src(c12)
    assert west < lon.min() < lon.max() < east and south < lat.min() < lat.max() < north
    assert east - west < lon.max() - lon.min() + 1 and north - south < lat.max() - lat.min() + 1  # half a cell each side
    native = doc["extent"]["spatial"].get("native")
    if native:
        assert native["bbox"][0] == pytest.approx([west, south, east, north])


def test_multipoint_each_nearest(grids_client, c12):
    lon, lat, temp = src(c12)
    pts = [(-69.9, 40.1), (-68.2, 41.9), (-69.5, 42.6)]
    wkt = "MULTIPOINT(" + ",".join(f"({x} {y})" for x, y in pts) + ")"
    doc = covjson(grids_client, f"{C12}/position", coords=wkt)
    for (x, y), cov in zip(pts, doc["coverages"]):
        iy, ix, _ = nearest(lon, lat, x, y)
        assert cov["ranges"]["temp"]["values"] == [temp[iy, ix]]
        assert cov["domain"]["axes"]["x"]["values"][0] == pytest.approx(lon[iy, ix], abs=1e-12)


def test_area_is_the_cells_inside_the_polygon(grids_client, c12):
    lon, lat, temp = src(c12)
    poly = shapely.from_wkt("POLYGON((-69.6 40.5,-68.4 40.6,-68.6 41.6,-69.5 41.4,-69.6 40.5))")
    expected = {tuple(v) for v in np.argwhere(shapely.contains_xy(poly, lon, lat))}
    doc = covjson(grids_client, f"{C12}/area", coords=poly.wkt)
    assert doc["domain"]["domainType"] == "MultiPointSeries"
    got = locate(lon, lat, cells_of(doc))
    assert set(got) == expected and len(got) == len(expected)
    assert doc["ranges"]["temp"]["values"] == [temp[i] for i in got]
    assert doc["ranges"]["temp"]["axisNames"] == ["t", "composite"]


def test_cube_is_the_cells_inside_the_bbox(grids_client, c12):
    lon, lat, temp = src(c12)
    box = (-69.5, 40.5, -68.5, 41.5)
    inside = (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])
    doc = covjson(grids_client, f"{C12}/cube", bbox=",".join(map(str, box)))
    got = locate(lon, lat, cells_of(doc))
    assert set(got) == {tuple(v) for v in np.argwhere(inside)}
    assert doc["ranges"]["temp"]["values"] == [temp[i] for i in got]


def test_cube_netcdf_is_the_masked_window_with_2d_latlon(grids_client, c12, tmp_path):
    lon, lat, temp = src(c12)
    box = (-69.5, 40.5, -68.5, 41.5)
    inside = (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])
    r = grids_client.get(f"{C12}/cube", params={"bbox": ",".join(map(str, box)), "f": "NetCDF"})
    assert r.status_code == 200
    (tmp_path / "c.nc").write_bytes(r.content)
    ds = xr.open_dataset(tmp_path / "c.nc")
    rows, cols = np.flatnonzero(inside.any(1)), np.flatnonzero(inside.any(0))
    win = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    np.testing.assert_array_equal(ds.lon_rho.values, lon[win])
    np.testing.assert_array_equal(ds.lat_rho.values, lat[win])
    assert ds.cf.coordinates["longitude"] == ["lon_rho"] and ds.cf.coordinates["latitude"] == ["lat_rho"]
    expected = np.where(inside[win], temp[win], np.nan)
    np.testing.assert_array_equal(ds.temp.values[0], expected)
    assert "lon_rho" in ds.temp.encoding["coordinates"]


def test_radius_is_geodesic(grids_client, c12):
    lon, lat, temp = src(c12)
    _, _, dist = Geod(ellps="WGS84").inv(np.full(lon.shape, -69.0), np.full(lon.shape, 41.0), lon, lat)
    expected = {tuple(v) for v in np.argwhere(dist <= 45_000)}
    r = grids_client.get(f"{C12}/radius", params={"coords": "POINT(-69 41)", "within": "45", "within-units": "km",
                                                  "f": "GeoJSON"})
    assert r.status_code == 200
    feats = r.json()["features"]
    pts = np.array([f["geometry"]["coordinates"] for f in feats])
    got = locate(lon, lat, pts)
    assert set(got) == expected
    assert [f["properties"]["temp"] for f in feats] == [temp[i] for i in got]


def test_corridor_against_geodesic_distance_to_the_path(grids_client, c12):
    lon, lat, _ = src(c12)
    path = np.column_stack([np.linspace(-69.8, -68.2, 400), np.linspace(40.6, 41.6, 400)])
    d = np.min([haversine(x, y, lon, lat) for x, y in path], axis=0)
    r = grids_client.get(f"{C12}/corridor", params={"coords": "LINESTRING(-69.8 40.6,-68.2 41.6)",
                                                    "corridor-width": "40", "width-units": "km", "corridor-height": "0",
                                                    "height-units": "m", "f": "CSV"})
    assert r.status_code == 200, r.text
    rows = np.loadtxt(io.StringIO(r.text), delimiter=",", skiprows=1, usecols=(0, 1, 3))
    assert r.text.splitlines()[0].startswith("longitude,latitude")
    got = set(locate(lon, lat, rows[:, :2]))
    assert {tuple(v) for v in np.argwhere(d < 19_500)} <= got  # well inside: included
    assert got <= {tuple(v) for v in np.argwhere(d < 20_500)}  # well outside: excluded
    np.testing.assert_array_equal(rows[:, 2], [100 * iy + ix for iy, ix in locate(lon, lat, rows[:, :2])])


def test_trajectory_cells_are_nearest_to_the_path(grids_client, c12):
    lon, lat, temp = src(c12)
    doc = covjson(grids_client, f"{C12}/trajectory", coords="LINESTRING(-69.6 40.8,-68.6 41.3)")
    vals = doc["domain"]["axes"]["composite"]["values"]
    got = locate(lon, lat, np.array([v[1:3] for v in vals]))
    path = np.column_stack([np.linspace(-69.6, -68.6, 200), np.linspace(40.8, 41.3, 200)])
    expected = list(dict.fromkeys(nearest(lon, lat, x, y)[:2] for x, y in path))
    assert got[0] == expected[0] and got[-1] == expected[-1]
    assert set(got) <= set(expected)  # each cell is the nearest cell of some point of the path
    assert len(set(got)) >= 0.8 * len(expected)  # sampled every half cell: only cells clipped at a corner may be missed
    assert doc["ranges"]["temp"]["values"] == [temp[i] for i in got]


def test_indices_never_appear_as_lonlat(grids_client):
    doc = covjson(grids_client, f"{C12}/cube", bbox="-69.5,40.5,-68.5,41.5")
    pts = cells_of(doc)
    assert (pts[:, 0] < -60).all() and (pts[:, 1] > 39).all()
    ds = grids_client.get(f"{C12}/coverage/domainset").json()["generalGrid"]
    assert [a["type"] for a in ds["axis"][:2]] == ["IndexAxisType", "IndexAxisType"]
    assert "Index2D" in ds["srsName"] and "CRS84" not in ds["srsName"]
    assert [a["axisLabel"] for a in ds["axis"][:2]] == ["xi_rho", "eta_rho"]


def test_coverage_index_subset_equals_isel(grids_client, c12, tmp_path):
    r = grids_client.get(f"{C12}/coverage", params={"subset": ["eta_rho(2:5)", "xi_rho(3:9)"], "f": "netcdf"})
    assert r.status_code == 200, r.text
    (tmp_path / "s.nc").write_bytes(r.content)
    got = xr.open_dataset(tmp_path / "s.nc")
    want = c12.isel(eta_rho=slice(2, 6), xi_rho=slice(3, 10))
    np.testing.assert_array_equal(got.temp.values, want.temp.values)
    np.testing.assert_array_equal(got.lat_rho.values, want.lat_rho.values)
    doc = covjson(grids_client, f"{C12}/coverage", subset="eta_rho(2:5),xi_rho(3:9)")
    assert doc["ranges"]["temp"]["values"] == want.temp.values.ravel().tolist()


def test_coverage_lonlat_bbox_is_masked_window(grids_client, c12):
    lon, lat, temp = src(c12)
    box = (-69.5, 40.5, -68.5, 41.5)
    inside = (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])
    for params in ({"bbox": ",".join(map(str, box))}, {"subset": "Lon(-69.5:-68.5),Lat(40.5:41.5)"}):
        doc = covjson(grids_client, f"{C12}/coverage", **params)
        got = locate(lon, lat, cells_of(doc))
        assert set(got) == {tuple(v) for v in np.argwhere(inside)}
        assert doc["ranges"]["temp"]["values"] == [temp[i] for i in got]


def test_coverage_refuses_scaling_and_warping(grids_client):
    error(grids_client, f"{C12}/coverage", "scale-factor", **{"scale-factor": "2"})
    error(grids_client, f"{C12}/coverage", "crs", crs="EPSG:3857")
    error(grids_client, f"{C12}/coverage", "subset", subset="xi_rho(99)")


def test_geotiff_is_a_nearest_neighbour_regrid(grids_client, c12):
    lon, lat, temp = src(c12)
    r = grids_client.get(f"{C12}/coverage", params={"f": "geotiff"})
    assert r.status_code == 200
    with rasterio.open(io.BytesIO(r.content)) as f:
        assert f.crs.to_epsg() == 4326
        band, t = f.read(1), f.transform
    filled = 0
    for row in range(band.shape[0]):
        for col in range(band.shape[1]):
            x, y = t * (col + 0.5, row + 0.5)
            iy, ix, d = nearest(lon, lat, x, y)
            if np.isfinite(band[row, col]):
                filled += 1
                assert band[row, col] == temp[iy, ix]
                assert d < 30_000  # within about a cell (spacing ~22 km)
            else:
                assert d > 10_000  # nodata only away from every cell centre
    assert filled > 100


def test_png_quicklook(grids_client):
    r = grids_client.get(f"{C12}/coverage", params={"f": "png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:4] == b"\x89PNG"


def test_check_config_describes_the_grid(cases, tmp_path):
    from cubeserver.config import config_from_dict
    from cubeserver.registry import Registry

    reg = Registry(config_from_dict({"collections": {"c": {"path": str(cases / "c12_curvilinear.nc")}}}, tmp_path))
    s = reg.get("c").summary()
    assert s["axes"]["grid"] == "curvilinear" and s["axes"]["longitude"] == "lon_rho"
    assert s["axes"]["x"] == "xi_rho" and s["axes"]["y"] == "eta_rho" and s["axes"]["lon_360"] is False
    assert s["bbox_crs84"][0] < -71 and s["bbox_crs84"][2] > -67.5
