"""NEMO curvilinear grids: ORCA2 tripolar (north fold, dateline) and three monthly files as one glob collection,
checked against the source files with numpy (haversine argmin, shapely), plus the Zarr endpoint and processes."""

from __future__ import annotations


import numpy as np
import pytest
import shapely
import xarray as xr

from tests.conftest import DATASETS, serve_in_thread

from .conftest import NEMO, cells_of, covjson, error, haversine, locate

# near the North Pole and on the north fold, across the dateline, the open ocean
ORCA_POINTS = [(60, 85), (-100, 88), (0, 89.5), (179.9, 0.3), (-179.95, -10), (100, 78), (-30, 40)]


@pytest.mark.parametrize("lon,lat", ORCA_POINTS)
def test_orca2_position_is_the_haversine_argmin(grids_client, orca2, lon, lat):
    lon2, lat2 = orca2.nav_lon.values.astype("float64"), orca2.nav_lat.values.astype("float64")
    d = haversine(lon, lat, lon2, lat2)
    best = d.min()
    doc = covjson(grids_client, "/collections/orca2/position", coords=f"POINT({lon} {lat})")
    x, y = doc["domain"]["axes"]["x"]["values"][0], doc["domain"]["axes"]["y"]["values"][0]
    assert haversine(lon, lat, x, y) == pytest.approx(best, rel=1e-6, abs=1e-3)
    ties = np.argwhere(np.abs(d - best) <= 1e-3 + 1e-6 * best)  # the fold and the halo duplicate cells
    value = doc["ranges"]["votemper"]["values"][0]
    src = [orca2.votemper.values[iy, ix] for iy, ix in ties]
    if value is None:
        assert any(np.isnan(v) for v in src)
    else:
        assert any(v == pytest.approx(value, rel=1e-6) for v in src)


def test_orca2_extent_is_global(grids_client, orca2):
    west, south, east, north = grids_client.get("/collections/orca2").json()["extent"]["spatial"]["bbox"][0]
    assert (west, east) == (-180, 180) and north == 90
    assert south == pytest.approx(float(orca2.nav_lat.min()), abs=1.5) and south < float(orca2.nav_lat.min())


def test_orca2_area_across_the_dateline(grids_client, orca2):
    lon2, lat2 = orca2.nav_lon.values.astype("float64"), orca2.nav_lat.values.astype("float64")
    poly = shapely.from_wkt("POLYGON((170 -20,190 -20,190 0,170 0,170 -20))")
    shifted = np.where(lon2 < 0, lon2 + 360, lon2)
    expected = {tuple(v) for v in np.argwhere(shapely.intersects_xy(poly, shifted, lat2))}
    doc = covjson(grids_client, "/collections/orca2/area", coords=poly.wkt)
    assert doc["domain"]["domainType"] in ("MultiPoint", "MultiPointSeries")  # one time step, as a dim or not
    got = locate(lon2, lat2, cells_of(doc))
    assert set(got) == expected
    vals = [orca2.votemper.values[i] for i in got]
    assert [v if v is not None else np.nan for v in doc["ranges"]["votemper"]["values"]] == pytest.approx(vals, nan_ok=True)


def test_orca2_arctic_radius(grids_client, orca2):
    from pyproj import Geod

    lon2, lat2 = orca2.nav_lon.values.astype("float64"), orca2.nav_lat.values.astype("float64")
    _, _, dist = Geod(ellps="WGS84").inv(np.full(lon2.shape, 0.0), np.full(lon2.shape, 88.0), lon2, lat2)
    doc = covjson(grids_client, "/collections/orca2/radius", coords="POINT(0 88)", within="500", **{"within-units": "km"})
    got = locate(lon2, lat2, cells_of(doc))
    # duplicated fold cells share a position: compare positions, not indices
    want = {(round(float(lon2[i]), 6), round(float(lat2[i]), 6)) for i in map(tuple, np.argwhere(dist <= 500_000))}
    assert {(round(float(lon2[i]), 6), round(float(lat2[i]), 6)) for i in got} == want


def _nemo_sources():
    return [xr.open_dataset(p) for p in NEMO]


def test_nemo_glob_is_one_collection_with_three_months(grids_client):
    doc = grids_client.get("/collections/nemo").json()
    assert doc["extent"]["temporal"]["interval"][0] == ["2015-01-16T00:00:00Z", "2015-03-16T00:00:00Z"]
    west, south, east, north = doc["extent"]["spatial"]["bbox"][0]
    assert (west, east) == (-180, 180) and south < -85


@pytest.mark.parametrize("lon,lat", [(-30, 40), (179.95, -5), (150, 75), (-60, 89)])
def test_nemo_position_series_equals_each_file(grids_client, lon, lat):
    srcs = _nemo_sources()
    lon2, lat2 = srcs[0].nav_lon.values.astype("float64"), srcs[0].nav_lat.values.astype("float64")
    d = haversine(lon, lat, lon2, lat2)
    iy, ix = np.unravel_index(np.argmin(d), d.shape)
    doc = covjson(grids_client, "/collections/nemo/position", coords=f"POINT({lon} {lat})")
    assert doc["domain"]["domainType"] == "PointSeries"
    assert haversine(lon, lat, doc["domain"]["axes"]["x"]["values"][0], doc["domain"]["axes"]["y"]["values"][0]) \
        == pytest.approx(d.min(), rel=1e-6, abs=1e-3)
    want = [float(s.tos.values[0, iy, ix]) for s in srcs]
    got = [np.nan if v is None else v for v in doc["ranges"]["tos"]["values"]]
    assert got == pytest.approx(want, nan_ok=True, rel=1e-6)
    assert doc["domain"]["axes"]["t"]["values"] == ["2015-01-16T00:00:00Z", "2015-02-16T00:00:00Z", "2015-03-16T00:00:00Z"]


def test_nemo_cube_across_the_antimeridian(grids_client):
    s = _nemo_sources()[1]
    lon2, lat2 = s.nav_lon.values.astype("float64"), s.nav_lat.values.astype("float64")
    inside = ((lon2 >= 175) | (lon2 <= -175)) & (lat2 >= -3) & (lat2 <= 3)
    doc = covjson(grids_client, "/collections/nemo/cube", bbox="175,-3,-175,3", datetime="2015-02-16T00:00:00Z")
    got = locate(lon2, lat2, cells_of(doc))
    assert set(got) == {tuple(v) for v in np.argwhere(inside)}
    vals = [np.nan if v is None else v for v in doc["ranges"]["tos"]["values"]]
    assert vals == pytest.approx([float(s.tos.values[0][i]) for i in got], nan_ok=True)


def test_nemo_outside_time_is_204_and_outside_space_400(grids_client):
    """A valid datetime after the data is EDR's no-data answer (204, no body); a point off the Earth a 400."""
    r = grids_client.get("/collections/nemo/position", params={"coords": "POINT(-30 40)",
                                                              "datetime": "2016-01-01T00:00:00Z"})
    assert r.status_code == 204 and r.content == b""
    error(grids_client, "/collections/nemo/position", "coords", coords="POINT(500 40)")


def test_nemo_coverage_netcdf_keeps_2d_latlon(grids_client, tmp_path):
    r = grids_client.get("/collections/nemo/coverage", params={"subset": "y(100:120),x(10:30)", "f": "netcdf"})
    assert r.status_code == 200, r.text
    (tmp_path / "n.nc").write_bytes(r.content)
    got = xr.open_dataset(tmp_path / "n.nc")
    srcs = _nemo_sources()
    np.testing.assert_array_equal(got.nav_lat.values, srcs[0].nav_lat.values[100:121, 10:31])
    for k, s in enumerate(srcs):
        np.testing.assert_array_equal(got.tos.values[k], s.tos.values[0, 100:121, 10:31])


@pytest.fixture(scope="module")
def nemo_http(grids_client):
    with serve_in_thread(grids_client.app) as base:
        yield base


@pytest.mark.parametrize("cid", ["orca2", "nemo"])
def test_zarr_endpoint_keeps_the_2d_coordinates(nemo_http, cid):
    ds = xr.open_zarr(f"{nemo_http}/collections/{cid}/zarr", zarr_format=2, consolidated=True)
    src = xr.open_dataset(DATASETS / "grids" / "orca2_votemper.nc") if cid == "orca2" else _nemo_sources()[2]
    np.testing.assert_array_equal(ds.nav_lat.values, src.nav_lat.values)
    np.testing.assert_array_equal(ds.nav_lon.values, src.nav_lon.values)
    if cid == "orca2":
        np.testing.assert_array_equal(ds.votemper.values.reshape(src.votemper.shape), src.votemper.values)
    else:
        np.testing.assert_array_equal(ds.tos.values[2], src.tos.values[0])


def test_zonal_statistics_use_the_true_positions(grids_client):
    s = _nemo_sources()[0]
    lon2, lat2 = s.nav_lon.values.astype("float64"), s.nav_lat.values.astype("float64")
    poly = shapely.box(-40, 30, -20, 50)
    inside = shapely.contains_xy(poly, lon2, lat2)
    vals = s.tos.values[0][inside]
    vals = vals[np.isfinite(vals)]
    body = {"inputs": {"collection": "nemo", "variable": "tos", "datetime": "2015-01-16T00:00:00Z",
                       "features": {"type": "FeatureCollection", "features": [
                           {"type": "Feature", "id": "box", "geometry": shapely.geometry.mapping(poly)}]}}}
    r = grids_client.post("/processes/zonal-statistics/execution", json=body)
    assert r.status_code == 200, r.text
    row = r.json()["statistics"][0]
    assert row["count"] == vals.size
    assert row["mean"] == pytest.approx(float(vals.astype("float64").mean()), rel=1e-6)


def test_coarsen_places_block_centres_on_the_sphere(grids_client, tmp_path):
    """Blocks that straddle the antimeridian (179.5, -179.5) are centred near 180, not at 0."""
    body = {"inputs": {"collection": "nemo", "variables": ["tos"], "factors": {"x": 2, "y": 2}}, "response": "document"}
    r = grids_client.post("/processes/coarsen/execution", json=body)
    assert r.status_code == 200, r.text
    href = r.json()["result"]["href"].replace("http://testserver", "")
    (tmp_path / "c.nc").write_bytes(grids_client.get(href).content)
    out = xr.open_dataset(tmp_path / "c.nc")
    s = _nemo_sources()[0]
    lon2, lat2 = s.nav_lon.values.astype("float64"), s.nav_lat.values.astype("float64")
    ny, nx = out.nav_lon.shape
    blocks = lon2[:2 * ny, :2 * nx].reshape(ny, 2, nx, 2)
    straddle = np.argwhere((blocks.max(axis=(1, 3)) > 170) & (blocks.min(axis=(1, 3)) < -170))
    assert len(straddle) > 10
    for iy, ix in [*map(tuple, straddle[::20]), (100, nx // 2), (ny - 1, 10)]:
        blon, blat = lon2[2 * iy:2 * iy + 2, 2 * ix:2 * ix + 2], lat2[2 * iy:2 * iy + 2, 2 * ix:2 * ix + 2]
        # the block centre is within the block: no farther from each of its cells than the block's own size
        size = max(haversine(blon.ravel()[i], blat.ravel()[i], blon, blat).max() for i in range(4))
        d = haversine(float(out.nav_lon.values[iy, ix]), float(out.nav_lat.values[iy, ix]), blon, blat)
        assert d.max() <= size
    want = s.tos.values[0][:2 * ny, :2 * nx].reshape(ny, 2, nx, 2).astype("float64")
    with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        np.testing.assert_allclose(out.tos.values[0], np.nanmean(want, axis=(1, 3)), rtol=1e-5)


def test_area_across_the_grid_seam_is_a_narrow_window(grids_client, tmp_path):
    """NEMO's columns start at 73.5E: an area around 73E takes the last and first columns, not all 360."""
    s = _nemo_sources()[0]
    lon2, lat2 = s.nav_lon.values.astype("float64"), s.nav_lat.values.astype("float64")
    poly = shapely.box(70, -10, 76, -5)
    inside = shapely.intersects_xy(poly, lon2, lat2)
    doc = covjson(grids_client, "/collections/nemo/area", coords=poly.wkt, datetime="2015-01-16T00:00:00Z")
    got = locate(lon2, lat2, cells_of(doc))
    assert set(got) == {tuple(v) for v in np.argwhere(inside)}
    r = grids_client.get("/collections/nemo/area", params={"coords": poly.wkt, "f": "NetCDF"})
    (tmp_path / "a.nc").write_bytes(r.content)
    out = xr.open_dataset(tmp_path / "a.nc")
    cols = np.flatnonzero(inside.any(axis=0))
    assert out.sizes["x"] == len(cols) < 20
    rows = np.flatnonzero(inside.any(axis=1))
    order = np.r_[cols[cols > 180], cols[cols < 180]]  # across the seam: the last columns, then the first
    np.testing.assert_array_equal(out.nav_lon.values, lon2[rows[0]:rows[-1] + 1][:, order].astype("float32"))
