"""Radius, trajectory and corridor: the selected cells and their values against direct computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import Geod

from tests.conftest import open_source

from .conftest import covjson, values

GEOD = Geod(ellps="WGS84")


def test_radius_is_geodesic(client):
    src = open_source("coads_sst.nc").SST.isel(TIME=0)
    cov = covjson(client, "/collections/coads/radius", coords="POINT(-30 40)", within="400", within_units="km",
                  parameter_name="SST", datetime="2000-01-16T06:00:00Z")
    xs, ys = cov["domain"]["axes"]["x"]["values"], cov["domain"]["axes"]["y"]["values"]
    X, Y = np.meshgrid(xs, ys)
    _, _, dist = GEOD.inv(np.full(X.shape, -30.0), np.full(X.shape, 40.0), X, Y)
    inside = dist <= 400_000
    got = values(cov, "SST")[0]
    exp = src.sel(COADSX=xs, COADSY=ys).values
    np.testing.assert_allclose(got[inside], exp[inside], rtol=1e-6)
    assert np.isnan(got[~inside]).all()
    # every cell of the grid within the radius is in the window
    AX, AY = np.meshgrid(src.COADSX.values, src.COADSY.values)
    _, _, all_dist = GEOD.inv(np.full(AX.shape, -30.0), np.full(AX.shape, 40.0), AX, AY)
    assert inside.sum() == (all_dist <= 400_000).sum() > 4


def test_radius_units(client):
    km = covjson(client, "/collections/coads/radius", coords="POINT(-30 40)", within="400", within_units="km",
                 parameter_name="SST", datetime="2000-01-16T06:00:00Z")
    mi = covjson(client, "/collections/coads/radius", coords="POINT(-30 40)", within=str(400 / 1.609344),
                 within_units="mi", parameter_name="SST", datetime="2000-01-16T06:00:00Z")
    m = covjson(client, "/collections/coads/radius", coords="POINT(-30 40)", within="400000", within_units="m",
                parameter_name="SST", datetime="2000-01-16T06:00:00Z")
    assert km["ranges"]["SST"]["values"] == mi["ranges"]["SST"]["values"] == m["ranges"]["SST"]["values"]


def test_trajectory_along_a_parallel(client):
    src = open_source("coads_sst.nc").SST
    doc = covjson(client, "/collections/coads/trajectory", coords="LINESTRING(-40 39.2,-30.5 39.2)", parameter_name="SST",
                  datetime="2000-07-16T20:54:36Z")
    assert doc["domain"]["domainType"] == "Trajectory"
    comp = doc["domain"]["axes"]["composite"]
    assert comp["coordinates"] == ["t", "x", "y"]
    xs = [v[1] for v in comp["values"]]
    assert xs == [-39.0, -37.0, -35.0, -33.0, -31.0]
    assert {v[2] for v in comp["values"]} == {39.0} and {v[0] for v in comp["values"]} == {"2000-07-16T20:54:36Z"}
    exp = src.sel(TIME="2000-07-16T20:54:36", method="nearest").sel(COADSY=39, COADSX=xs)
    np.testing.assert_allclose(values(doc, "SST"), exp.values, rtol=1e-6)


def test_trajectory_without_datetime_is_multipoint_series(client):
    doc = covjson(client, "/collections/coads/trajectory", coords="LINESTRING(-40 39.2,-30.5 39.2)", parameter_name="SST")
    assert doc["domain"]["domainType"] == "MultiPointSeries"
    assert doc["ranges"]["SST"]["axisNames"] == ["t", "composite"] and doc["ranges"]["SST"]["shape"] == [12, 5]


def test_trajectory_m_gives_time_per_vertex(client):
    src = open_source("analysed_sst.zarr").analysed_sst
    t0 = pd.Timestamp("2005-12-02T09:00:00Z").timestamp()
    t1 = pd.Timestamp("2005-12-06T09:00:00Z").timestamp()
    doc = covjson(client, "/collections/mur-sst/trajectory", parameter_name="analysed_sst",
                  coords=f"LINESTRINGM(-27.9 40.1 {t0:.0f},-27.5 40.1 {t1:.0f})")
    comp = doc["domain"]["axes"]["composite"]["values"]
    ts = [v[0] for v in comp]
    assert ts[0] == "2005-12-02T09:00:00Z" and ts[-1] == "2005-12-06T09:00:00Z" and ts == sorted(ts)
    got = values(doc, "analysed_sst")
    for (t, x, y), v in zip(comp, got):
        exp = src.sel(time=pd.Timestamp(t).tz_localize(None), lon=x, lat=y, method="nearest")
        assert float(exp.lon) == x and float(exp.lat) == y
        np.testing.assert_allclose(v, float(exp))


def test_trajectory_z_on_levels(client):
    src = open_source("basin_mask.nc").basin
    doc = covjson(client, "/collections/basin-mask/trajectory", coords="LINESTRINGZ(-30.5 40.5 0,-25.5 40.5 500)")
    assert doc["domain"]["domainType"] == "MultiPoint"
    comp = doc["domain"]["axes"]["composite"]
    assert comp["coordinates"] == ["x", "y", "z"]
    zs = [v[2] for v in comp["values"]]
    assert zs[0] == 0 and zs[-1] == 500 and zs == sorted(zs)
    for (x, y, z), v in zip(comp["values"], values(doc, "basin")):
        assert v == float(src.sel(X=x % 360, Y=y, Z=z))


def test_trajectory_z_param_and_multilinestring(client):
    src = open_source("eraint_uvz.nc").u
    doc = covjson(client, "/collections/eraint/trajectory", parameter_name="u", z="500", month="1",
                  coords="MULTILINESTRING((0 45,1.5 45),(10 50,10 51.5))")
    assert doc["domain"]["domainType"] == "MultiPoint"
    pts = doc["domain"]["axes"]["composite"]["values"]
    assert pts[0][:2] == [0.0, 45.0] and pts[-1][:2] == [9.75, 51.75]  # nearest cells on the 0.75° grid
    assert [0.75, 45.0] in [p[:2] for p in pts] and [9.75, 51.0] in [p[:2] for p in pts]
    for (x, y, z), v in zip(pts, values(doc, "u")):
        assert z == 500
        np.testing.assert_allclose(v, float(src.sel(month=1, level=500, longitude=x, latitude=y)))


def test_corridor_width_around_a_parallel(client):
    src = open_source("coads_sst.nc").SST.isel(TIME=0)
    cov = covjson(client, "/collections/coads/corridor", coords="LINESTRING(-40 39,-30 39)", corridor_width="300",
                  width_units="km", corridor_height="0", height_units="m", parameter_name="SST",
                  datetime="2000-01-16T06:00:00Z")
    assert cov["domain"]["domainType"] == "Grid"
    xs, ys = np.array(cov["domain"]["axes"]["x"]["values"]), np.array(cov["domain"]["axes"]["y"]["values"])
    got = values(cov, "SST")[0]
    X, Y = np.meshgrid(xs, ys)
    keep = ~np.isnan(got) | np.isnan(src.sel(COADSX=xs, COADSY=ys).values)
    inside_rows = set(Y[~np.isnan(got)].tolist())
    assert inside_rows == {39.0}  # rows 37 and 41 are 222 km from the line, outside a 150 km half-width
    row = got[list(ys).index(39.0)]
    sel = xs[~np.isnan(row)]
    assert sel.min() == -41 and sel.max() == -29  # round caps reach 150 km (1.7°) beyond the ends
    np.testing.assert_allclose(row[~np.isnan(row)], src.sel(COADSY=39, COADSX=sel).values, rtol=1e-6)
    assert keep.all()


def test_corridor_height_selects_levels(client):
    cov = covjson(client, "/collections/basin-mask/corridor", coords="LINESTRINGZ(-30 40 100,-25 40 200)",
                  corridor_width="200", width_units="km", corridor_height="60", height_units="m")
    assert cov["domain"]["axes"]["z"]["values"] == [75, 100, 125, 150, 200]  # 100..200 ± 30 m


def test_corridor_m_limits_time(client):
    t0 = pd.Timestamp("2005-12-03T09:00:00Z").timestamp()
    t1 = pd.Timestamp("2005-12-05T09:00:00Z").timestamp()
    cov = covjson(client, "/collections/mur-sst/corridor", parameter_name="mask", corridor_width="3",
                  width_units="km", corridor_height="0", height_units="m", coords=f"LINESTRINGM(-27.9 40.5 {t0:.0f},-27.2 40.5 {t1:.0f})")
    assert cov["domain"]["axes"]["t"]["values"] == ["2005-12-03T09:00:00Z", "2005-12-04T09:00:00Z",
                                                    "2005-12-05T09:00:00Z"]
