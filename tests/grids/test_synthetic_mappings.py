"""Grid mappings pyproj knows, written the ways CF allows: check-config reports pyproj's CRS and a
position query answers the cell pyproj and xarray pick.

Each file is small and synthetic (value = 1000 * j + i), built here with the CF attributes of one
mapping: lambert_conformal_conic, mercator, transverse_mercator, polar stereographic in km,
geostationary in radians (scanning angle), the extended `grid_mapping` syntax, a grid mapping named
only on a coordinate, a rotated grid across the antimeridian, and x/y that are not lon/lat without
any mapping (refused at start, saying what to set).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from pyproj import CRS, Transformer

from tests.conftest import ROOT, client_for

from .conftest import CRS84, covjson, same_crs

MAPPINGS = {
    "lcc": ({"grid_mapping_name": "lambert_conformal_conic", "standard_parallel": [33.0, 45.0],
             "longitude_of_central_meridian": -97.0, "latitude_of_projection_origin": 40.0,
             "false_easting": 0.0, "false_northing": 0.0, "semi_major_axis": 6371229.0, "semi_minor_axis": 6371229.0},
            (-500e3, 500e3, -400e3, 400e3), "m"),
    "mercator": ({"grid_mapping_name": "mercator", "longitude_of_projection_origin": 0.0, "standard_parallel": 20.0,
                  "false_easting": 0.0, "false_northing": 0.0}, (1.0e6, 2.0e6, 2.0e6, 3.0e6), "m"),
    "tmerc": ({"grid_mapping_name": "transverse_mercator", "scale_factor_at_central_meridian": 0.9996,
               "longitude_of_central_meridian": 9.0, "latitude_of_projection_origin": 0.0,
               "false_easting": 500000.0, "false_northing": 0.0}, (400e3, 600e3, 5.2e6, 5.4e6), "m"),
    "polar_km": ({"grid_mapping_name": "polar_stereographic", "straight_vertical_longitude_from_pole": -45.0,
                  "latitude_of_projection_origin": 90.0, "standard_parallel": 70.0, "false_easting": 0.0,
                  "false_northing": 0.0}, (-1000.0, 1000.0, -1500.0, -500.0), "km"),
    "geos": ({"grid_mapping_name": "geostationary", "perspective_point_height": 35786023.0,
              "semi_major_axis": 6378137.0, "semi_minor_axis": 6356752.31414, "longitude_of_projection_origin": -75.0,
              "sweep_angle_axis": "x"}, (-0.05, 0.05, 0.02, 0.08), "rad"),
}
NX, NY = 21, 17


def _write(path, attrs: dict, extent, units: str, *, style: str = "simple") -> xr.Dataset:
    x = np.linspace(extent[0], extent[1], NX)
    y = np.linspace(extent[2], extent[3], NY)
    std = "projection_{}_angular_coordinate" if units == "rad" else "projection_{}_coordinate"
    data = (np.arange(NY)[:, None] * 1000 + np.arange(NX)[None, :]).astype("float32")
    gm = {"simple": "crs", "extended": "crs: x y geo: lat lon", "coordinate": None}[style]
    var_attrs = {"units": "K"} | ({"grid_mapping": gm} if gm else {})
    ds = xr.Dataset(
        {"field": (("y", "x"), data, var_attrs), "crs": ((), np.int32(0), attrs)},
        coords={"x": ("x", x, {"standard_name": std.format("x"), "units": units, "axis": "X"}),
                "y": ("y", y, {"standard_name": std.format("y"), "units": units, "axis": "Y"})})
    if style == "coordinate":  # the mapping named by the x/y coordinate variables only
        ds.x.attrs["grid_mapping"] = ds.y.attrs["grid_mapping"] = "crs"
    if style == "extended":  # a second mapping describing 2-D lat/lon
        crs = CRS.from_cf(attrs)
        X, Y = np.meshgrid(x, y)
        lon, lat = Transformer.from_crs(crs, CRS84, always_xy=True).transform(X, Y)
        ds = ds.assign_coords(lon=(("y", "x"), lon, {"standard_name": "longitude", "units": "degrees_east"}),
                              lat=(("y", "x"), lat, {"standard_name": "latitude", "units": "degrees_north"}))
        ds["geo"] = ((), np.int32(0), {"grid_mapping_name": "latitude_longitude"})
        ds.field.attrs["coordinates"] = "lat lon"
    ds.to_netcdf(path)
    return ds


def _expected_crs(attrs: dict, units: str) -> CRS:
    """pyproj's CRS of the mapping; native units scaled as the file stores them (km, radians x h)."""
    crs = CRS.from_cf(attrs)
    factor = {"m": 1.0, "km": 1000.0, "rad": attrs.get("perspective_point_height", 1.0)}[units]
    return crs, factor


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mappings")
    out = {}
    for name, (attrs, extent, units) in MAPPINGS.items():
        out[name] = (tmp / f"{name}.nc", attrs, units, _write(tmp / f"{name}.nc", attrs, extent, units))
    attrs, extent, units = MAPPINGS["lcc"]
    out["extended"] = (tmp / "extended.nc", attrs, units, _write(tmp / "extended.nc", attrs, extent, units, style="extended"))
    out["on_coordinate"] = (tmp / "on_coordinate.nc", attrs, units,
                            _write(tmp / "on_coordinate.nc", attrs, extent, units, style="coordinate"))
    return tmp, out


@pytest.fixture(scope="module")
def mapped_client(files):
    tmp, out = files
    with client_for({name: {"path": str(p)} for name, (p, *_rest) in out.items()}, tmp) as c:
        yield c


def test_check_config_reports_pyproj_crs(files):
    tmp, out = files
    cfg = tmp / "config.yaml"
    cfg.write_text("collections:\n" + "".join(f"  {n}: {{path: {p}}}\n" for n, (p, *_r) in out.items()))
    run = subprocess.run([sys.executable, "-m", "cubeserver.cli", "check-config", str(cfg)], capture_output=True,
                         text=True, cwd=str(ROOT))
    assert run.returncode == 0, run.stderr
    reported = {d["id"]: d for d in map(json.loads, [ln for ln in run.stdout.splitlines() if ln.startswith("{")])}
    for name, (_, attrs, units, _ds) in out.items():
        axes = reported[name]["axes"]
        got = CRS.from_user_input(axes["crs"])
        expected, factor = _expected_crs(attrs, units)
        assert not axes["lonlat"] and axes["grid_mapping"] == "crs"
        # the same projection, with an axis unit of `factor` metres
        assert got.axis_info[0].unit_conversion_factor == pytest.approx(factor)
        a = Transformer.from_crs(CRS84, got, always_xy=True)
        b = Transformer.from_crs(CRS84, expected, always_xy=True)
        lon, lat = Transformer.from_crs(expected, CRS84, always_xy=True).transform(
            np.mean(_ds.x.values) * factor, np.mean(_ds.y.values) * factor)
        gx, gy = a.transform(lon, lat)
        ex, ey = b.transform(lon, lat)
        assert (gx * factor, gy * factor) == pytest.approx((ex, ey), rel=1e-9, abs=1e-6)
        if units == "m":
            assert same_crs(got, expected)


@pytest.mark.parametrize("name", list(MAPPINGS) + ["extended", "on_coordinate"])
def test_position_matches_pyproj_nearest(mapped_client, files, name):
    _, out = files
    path, attrs, units, ds = out[name]
    expected, factor = _expected_crs(attrs, units)
    back = Transformer.from_crs(expected, CRS84, always_xy=True)
    fwd = Transformer.from_crs(CRS84, expected, always_xy=True)
    rng = np.random.default_rng(1)
    for _ in range(4):
        x = ds.x.values.min() + rng.uniform(0.1, 0.9) * np.ptp(ds.x.values)
        y = ds.y.values.min() + rng.uniform(0.1, 0.9) * np.ptp(ds.y.values)
        lon, lat = back.transform(x * factor, y * factor)
        nx, ny = (v / factor for v in fwd.transform(lon, lat))
        exp = ds.field.sel(x=nx, y=ny, method="nearest")
        cov = covjson(mapped_client, f"/collections/{name}/position", coords=f"POINT({lon} {lat})")
        assert cov["ranges"]["field"]["values"] == [float(exp)]
        # answered in CRS84 (no crs asked, EDR /req/core/crs): the chosen cell's centre in lon/lat
        clon, clat = back.transform(float(exp.x) * factor, float(exp.y) * factor)
        assert cov["domain"]["axes"]["x"]["values"][0] == pytest.approx(clon, abs=1e-6)
        assert cov["domain"]["axes"]["y"]["values"][0] == pytest.approx(clat, abs=1e-6)


def test_rotated_grid_across_the_antimeridian(tmp_path):
    """A rotated grid centred on 180E (pole at 30N 0E): extent across the antimeridian, boxes across it."""
    attrs = {"grid_mapping_name": "rotated_latitude_longitude", "grid_north_pole_latitude": 30.0,
             "grid_north_pole_longitude": 0.0}
    rlon, rlat = np.arange(-10.0, 10.01, 1.0), np.arange(-8.0, 8.01, 1.0)
    data = (np.arange(rlat.size)[:, None] * 1000 + np.arange(rlon.size)[None, :]).astype("float32")
    xr.Dataset({"field": (("rlat", "rlon"), data, {"grid_mapping": "rp"}),
                "rp": ((), np.int32(0), attrs)},
               coords={"rlon": ("rlon", rlon, {"standard_name": "grid_longitude", "units": "degrees"}),
                       "rlat": ("rlat", rlat, {"standard_name": "grid_latitude", "units": "degrees"})}
               ).to_netcdf(tmp_path / "dateline.nc")
    crs = CRS.from_cf(attrs)
    with client_for({"d": {"path": str(tmp_path / "dateline.nc")}}, tmp_path) as c:
        bbox = c.get("/collections/d").json()["extent"]["spatial"]["bbox"][0]
        expected = Transformer.from_crs(crs, CRS84, always_xy=True).transform_bounds(-10.5, -8.5, 10.5, 8.5, densify_pts=101)
        assert bbox[0] > bbox[2]  # west > east: across the antimeridian, not the whole world
        assert bbox == pytest.approx(list(expected), abs=0.05)
        cov = covjson(c, "/collections/d/cube", bbox="175,55,-175,65")
        xs = cov["domain"]["axes"]["x"]["values"]
        x0, y0, x1, y1 = Transformer.from_crs(CRS84, crs, always_xy=True).transform_bounds(175, 55, -175, 65, densify_pts=21)
        assert xs == [v for v in rlon if x0 <= v <= x1]
        # a position east and one west of the antimeridian
        for lon, lat in ((178.0, 60.0), (-178.0, 60.0)):
            nx, ny = Transformer.from_crs(CRS84, crs, always_xy=True).transform(lon, lat)
            i, j = int(np.argmin(np.abs(rlon - nx))), int(np.argmin(np.abs(rlat - ny)))
            cov = covjson(c, "/collections/d/position", coords=f"POINT({lon} {lat})")
            assert cov["ranges"]["field"]["values"] == [1000.0 * j + i]


def test_projected_axes_without_a_mapping_are_refused(tmp_path):
    x = np.linspace(0, 1e5, 5)
    xr.Dataset({"field": (("y", "x"), np.zeros((5, 5)))},
               coords={"x": ("x", x, {"standard_name": "projection_x_coordinate", "units": "m"}),
                       "y": ("y", x, {"standard_name": "projection_y_coordinate", "units": "m"})}
               ).to_netcdf(tmp_path / "nomap.nc")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"collections:\n  nomap: {{path: {tmp_path / 'nomap.nc'}}}\n")
    run = subprocess.run([sys.executable, "-m", "cubeserver.cli", "check-config", str(cfg)], capture_output=True,
                         text=True, cwd=str(ROOT))
    assert run.returncode != 0
    err = run.stdout + run.stderr
    assert "collections.nomap" in err and "crs:" in err and "Traceback" not in err
    # with crs: set, it is served in that CRS
    cfg.write_text(f"collections:\n  nomap: {{path: {tmp_path / 'nomap.nc'}, crs: 'EPSG:32632'}}\n")
    run = subprocess.run([sys.executable, "-m", "cubeserver.cli", "check-config", str(cfg)], capture_output=True,
                         text=True, cwd=str(ROOT))
    assert run.returncode == 0 and "EPSG/0/32632" in run.stdout
