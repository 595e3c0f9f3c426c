"""Each built-in process against a numpy ground truth on the bundled datasets (in-process, LocalCluster)."""

from __future__ import annotations

import csv
import io

import numpy as np
import orjson
import pytest
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import shape

from ..conftest import DATASETS, open_source
from .conftest import netcdf


def run(client, pid, inputs, **extra) -> tuple[dict, str]:
    """Execute synchronously with a results document; returns (document, job id)."""
    r = client.post(f"/processes/{pid}/execution", json={"inputs": inputs, "response": "document", **extra})
    assert r.status_code == 200, r.text
    job_id = r.headers["link"].split("/jobs/")[1].split(">")[0]
    return r.json(), job_id


def grid(client, pid, inputs):
    doc, job_id = run(client, pid, inputs)
    href = doc["result"]["href"]
    assert href.endswith(f"/jobs/{job_id}/results/result")
    r = client.get(f"/jobs/{job_id}/results/result")
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-netcdf"
    return netcdf(r.content), job_id


SEASON_OF_2000 = [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4]  # Jan-Feb: DJF 1999/2000 ... Dec: DJF 2000/2001


def test_temporal_aggregate_seasonal_mean_coads(client):
    out, job_id = grid(client, "temporal-aggregate", {"collection": "coads", "variables": ["SST"], "grouping": "season"})
    src = open_source("coads_sst.nc")["SST"].values
    groups = np.array(SEASON_OF_2000)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.stack([np.nanmean(src[groups == g], axis=0) for g in range(5)])
    np.testing.assert_allclose(out["SST"].values, expected, rtol=1e-5, equal_nan=True)
    assert [str(t)[:10] for t in out["TIME"].values] == ["1999-12-01", "2000-03-01", "2000-06-01", "2000-09-01", "2000-12-01"]
    assert out["SST"].attrs["units"] == open_source("coads_sst.nc")["SST"].attrs["units"]
    assert "TIME: mean" in out["SST"].attrs["cell_methods"]
    # published as a temporary collection with a time axis
    coll = client.get(f"/collections/job-{job_id}").json()
    assert len(coll["extent"]["temporal"]["values"]) == 5


@pytest.mark.parametrize("reducer", ["max", "count", "std"])
def test_temporal_aggregate_whole_period_with_bbox_and_datetime(client, reducer):
    out, _ = grid(client, "temporal-aggregate", {
        "collection": "coads", "variables": "AIRT", "reducer": reducer, "bbox": [-60, -20, 20, 30],
        "datetime": "2000-03-01/2000-08-31"})
    src = open_source("coads_sst.nc")["AIRT"]
    sel = src.sel(COADSX=slice(-60, 20), COADSY=slice(-20, 30)).values[2:8]
    fn = {"max": np.nanmax, "count": lambda a, axis: np.isfinite(a).sum(axis), "std": np.nanstd}[reducer]
    with np.errstate(all="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        expected = fn(sel, axis=0)
    np.testing.assert_allclose(out["AIRT"].values, expected, rtol=1e-5, atol=1e-5, equal_nan=True)


def test_temporal_aggregate_noleap_calendar_kept(client):
    out, _ = grid(client, "temporal-aggregate", {
        "collection": "cmip5-pr", "grouping": "year", "reducer": "sum", "datetime": "2010-01-01/2019-12-31"})
    src = open_source("cmip5_rcp85_pcp_pctl25.nc")
    years = [t.year for t in src["time"].values]
    idx = [i for i, y in enumerate(years) if 2010 <= y <= 2019]
    np.testing.assert_allclose(out["pr"].values, src["pr"].values[idx], rtol=1e-6, equal_nan=True)
    assert out["time"].values[0].calendar == "noleap"
    assert out["time"].encoding["calendar"] == src["time"].encoding["calendar"] == "365_day"
    assert out["time"].encoding["units"] == "days since 1850-01-01"  # the source reference, normalised
    assert out["pr"].attrs["units"] == src["pr"].attrs["units"]


def test_anomaly_against_baseline_climatology_cmip5(client):
    out, _ = grid(client, "anomaly", {"collection": "cmip5-pr", "variable": "pr",
                                      "baseline": "2006-01-01/2035-12-31", "datetime": "2050-01-01/2100-12-31"})
    src = open_source("cmip5_rcp85_pcp_pctl25.nc")["pr"]
    years = np.array([t.year for t in src["time"].values])
    clim = src.values[(years >= 2006) & (years <= 2035)].mean(axis=0)  # every step is a July
    expected = src.values[years >= 2050] - clim
    np.testing.assert_allclose(out["pr"].values, expected, rtol=1e-4, atol=1e-6, equal_nan=True)
    assert out["pr"].attrs["units"] == src.attrs["units"]
    assert out["pr"].attrs["baseline_period"] == "2006-01-01/2035-12-31"
    assert out["time"].values[0].calendar == "noleap"


@pytest.mark.parametrize("statistic,per_year", [("count", False), ("fraction", False), ("count", True)])
def test_threshold_exceedance_coads(client, statistic, per_year):
    out, _ = grid(client, "threshold-exceedance", {"collection": "coads", "variable": "SST", "threshold": 20,
                                                   "statistic": statistic, "per_year": per_year})
    src = open_source("coads_sst.nc")["SST"].values
    valid = np.isfinite(src)
    count = ((src > 20) & valid).sum(0).astype(float)
    n = valid.sum(0)
    with np.errstate(all="ignore"):
        expected = np.where(n > 0, count / n if statistic == "fraction" else count, np.nan)
    name = f"SST_exceedance_{statistic}"
    got = out[name].values
    if per_year:
        assert got.shape == (1, 90, 180)
        got = got[0]
    np.testing.assert_allclose(got, expected, equal_nan=True)
    assert out[name].attrs["units"] == "1"


def test_coarsen_eraint_with_extra_dims(client):
    out, _ = grid(client, "coarsen", {"collection": "eraint", "variables": "u", "factors": {"x": 4, "y": 3},
                                      "reducer": "max"})
    src = open_source("eraint_uvz.nc")["u"].values  # (month, level, 241, 480)
    trimmed = src[:, :, :240, :480].reshape(2, 3, 80, 3, 120, 4)
    np.testing.assert_allclose(out["u"].values, trimmed.max(axis=(3, 5)), rtol=1e-6)
    lat = open_source("eraint_uvz.nc")["latitude"].values[:240].reshape(80, 3).mean(1)
    np.testing.assert_allclose(out["latitude"].values, lat, rtol=1e-6)


def _polygons():
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "box", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [[[-150, -10], [-100, -10], [-100, 20], [-150, 20], [-150, -10]]]}},
        {"type": "Feature", "id": "tri", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [[[0, -40], [60, -40], [30, 10], [0, -40]]]}},
        {"type": "Feature", "id": "land", "properties": {},  # the Rockies: no valid SST cell
         "geometry": {"type": "Polygon", "coordinates": [[[-110, 35], [-100, 35], [-100, 45], [-110, 45], [-110, 35]]]}},
    ]}


def _zonal_truth(src, lon, lat, geom):
    gx, gy = np.meshgrid(lon, lat)
    inside = shapely.contains_xy(geom, gx, gy)
    vals = src[:, inside]
    valid = np.isfinite(vals)
    n = valid.sum(1)
    if vals.shape[1] == 0:
        nan = np.full(len(n), np.nan)
        return n, nan, nan, nan
    with np.errstate(all="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        return n, np.nanmean(vals, 1), np.nanmin(vals, 1), np.nanmax(vals, 1)


def test_zonal_statistics_json(client):
    fc = _polygons()
    doc, _ = run(client, "zonal-statistics", {"features": fc, "collection": "coads", "variable": "SST",
                                              "datetime": "2000-01-01/2000-06-30"})
    assert doc["statistics"]["mediaType"] == "application/json"  # an object: a qualified value (results.yaml)
    stats = doc["statistics"]["value"]
    assert stats["variable"] == "SST" and stats["units"]
    rows = stats["statistics"]
    assert len(rows) == 3 * 6
    ds = open_source("coads_sst.nc")
    src = ds["SST"].values[:6]
    for f in fc["features"]:
        n, mean, lo, hi = _zonal_truth(src, ds["COADSX"].values, ds["COADSY"].values, shape(f["geometry"]))
        mine = [r for r in rows if r["id"] == f["id"]]
        assert [r["time"][:7] for r in mine] == [f"2000-0{m}" for m in range(1, 7)]
        assert [r["count"] for r in mine] == n.tolist()
        if f["id"] == "land":
            assert all(r["mean"] is None and r["count"] == 0 for r in mine)
            continue
        assert n.min() > 10
        np.testing.assert_allclose([r["mean"] for r in mine], mean, rtol=1e-5)
        np.testing.assert_allclose([r["min"] for r in mine], lo, rtol=1e-6)
        np.testing.assert_allclose([r["max"] for r in mine], hi, rtol=1e-6)


def test_zonal_statistics_from_a_features_collection(client):
    doc, _ = run(client, "zonal-statistics", {"features": "lakes", "collection": "coads", "variable": "SST",
                                              "datetime": "2000-01-16T06:00:00Z"})
    rows = doc["statistics"]["value"]["statistics"]
    lakes = orjson.loads((DATASETS / "ne_110m_lakes.geojson").read_bytes())["features"]
    assert len(rows) == len(lakes)
    ds = open_source("coads_sst.nc")
    src = ds["SST"].values[:1]
    hits = 0
    for row, lake in zip(rows, lakes):
        n, mean, lo, hi = _zonal_truth(src, ds["COADSX"].values, ds["COADSY"].values, shape(lake["geometry"]))
        assert row["count"] == n[0]
        if n[0]:
            hits += 1
            assert (row["mean"], row["min"], row["max"]) == pytest.approx((mean[0], lo[0], hi[0]))
    assert hits >= 2  # Baikal and Victoria contain a valid cell centre


def test_zonal_statistics_csv_on_a_0_360_grid(client):
    """Polygons in -180..180 (one across the prime meridian) over the basin mask, whose longitudes run 0..360."""
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "atlantic", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [[[-40, 0], [-10, 0], [-10, 30], [-40, 30], [-40, 0]]]}},
        {"type": "Feature", "id": "guinea", "properties": {},
         "geometry": {"type": "MultiPolygon", "coordinates": [[[[-10, -20], [10, -20], [10, 0], [-10, 0], [-10, -20]]]]}},
    ]}
    r = client.post("/processes/zonal-statistics/execution", json={
        "inputs": {"features": fc, "collection": "basin-mask", "variable": "basin", "z": 0},
        "outputs": {"statistics": {"format": {"mediaType": "text/csv"}}}, "response": "raw"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == ["id", "Z", "count", "mean", "min", "max"]
    ds = open_source("basin_mask.nc")
    lon = ds["X"].values
    assert lon.max() > 180
    lon = np.where(lon > 180, lon - 360, lon)
    src = ds["basin"].isel(Z=0).values.astype(float)[None]
    assert [row["id"] for row in rows] == ["atlantic", "guinea"]
    for row, f in zip(rows, fc["features"]):
        n, mean, lo, hi = _zonal_truth(src, lon, ds["Y"].values, shape(f["geometry"]))
        assert n[0] > 100 and int(row["count"]) == n[0]
        assert float(row["mean"]) == pytest.approx(mean[0])
        assert (float(row["min"]), float(row["max"])) == (lo[0], hi[0])


def test_buffer_point_in_metres(client):
    doc, _ = run(client, "buffer", {"geometry": {"type": "Point", "coordinates": [10, 45]}, "distance": 1000,
                                    "resolution": 32})
    assert doc["buffered"]["mediaType"] == "application/geo+json"  # an object: a qualified value (results.yaml)
    g = shape(doc["buffered"]["value"])
    assert g.geom_type == "Polygon" and g.contains(shapely.Point(10, 45))
    aeqd = CRS.from_proj4("+proj=aeqd +lat_0=45 +lon_0=10 +datum=WGS84 +units=m")
    tr = Transformer.from_crs("OGC:CRS84", aeqd, always_xy=True)
    local = shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    assert local.area == pytest.approx(np.pi * 1000**2, rel=0.01)
    assert 0.008 < (g.bounds[3] - g.bounds[1]) / 2 < 0.0095  # ~1 km in latitude degrees


def test_buffer_negative_distance_shrinks_a_polygon(client):
    """A negative distance on an area erodes it: a 0.1° square at 45°N shrunk by 1 km loses 1 km on each side
    (sides measured on the ellipsoid with pyproj.Geod, independent of the process's projection)."""
    from pyproj import Geod

    ring = [[10, 45], [10.1, 45], [10.1, 45.1], [10, 45.1], [10, 45]]
    doc, _ = run(client, "buffer", {"geometry": {"type": "Polygon", "coordinates": [ring]}, "distance": -1000})
    g = shape(doc["buffered"]["value"])
    geod = Geod(ellps="WGS84")
    width = geod.inv(10, 45.05, 10.1, 45.05)[2]
    height = geod.inv(10.05, 45, 10.05, 45.1)[2]
    area = abs(geod.geometry_area_perimeter(g)[0])
    assert area == pytest.approx((width - 2000) * (height - 2000), rel=0.01)
