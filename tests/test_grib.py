"""GRIB2 collections (ECCC GEM global lat/lon and HRDPS polar stereographic) against cfgrib itself.

The reference is what cfgrib/ecCodes read from the file directly: 2-D latitude/longitude
for HRDPS, whose projected x/y the server rebuilds, so a wrong projection or a grid off by
one cell shows up as a value or position mismatch.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pyproj import CRS, Transformer

from tests.conftest import DATASETS
from tests.coverages.conftest import netcdf
from tests.edr.conftest import covjson, values

GEM = "CMC_glb_TMP_TGL_2_latlon.15x.15_2020081000_P000.grib2"
HRDPS = "CMC_hrdps_continental_TMP_TGL_80_ps2.5km_2020102700_P005-00.grib2"


def cfgrib(name: str) -> xr.Dataset:
    with xr.open_dataset(DATASETS / name, engine="cfgrib", backend_kwargs={"indexpath": ""}) as ds:
        return ds.load()


@pytest.fixture(scope="module")
def gem():
    return cfgrib(GEM)


@pytest.fixture(scope="module")
def hrdps():
    return cfgrib(HRDPS)


def haversine_nearest(lat2d: np.ndarray, lon2d: np.ndarray, lon: float, lat: float) -> tuple[int, int]:
    """Index of the grid cell whose centre is nearest on the sphere (independent of any projection)."""
    p1, p2 = np.radians(lat2d), math.radians(lat)
    dl = np.radians(lon2d - lon)
    a = np.sin((p1 - p2) / 2) ** 2 + np.cos(p1) * math.cos(p2) * np.sin(dl / 2) ** 2
    return np.unravel_index(np.argmin(a), a.shape)


def test_metadata_has_valid_time_and_native_crs(client, hrdps):
    doc = client.get("/collections/hrdps").json()
    assert doc["extent"]["temporal"]["interval"] == [["2020-10-27T05:00:00Z", "2020-10-27T05:00:00Z"]]
    native = CRS.from_user_input(doc["extent"]["spatial"]["native"]["crs"])
    assert native.is_projected and "Polar Stereographic" in native.to_wkt()
    lon = ((hrdps.longitude.values + 180) % 360) - 180
    west, south, east, north = doc["extent"]["spatial"]["bbox"][0]
    # cell-edge bounds hold every cell centre, and are no more than a cell (~0.05°) wider
    assert west <= lon.min() < west + 0.1 and east - 0.1 < lon.max() <= east
    assert south <= hrdps.latitude.min() < south + 0.1 and north - 0.1 < hrdps.latitude.max() <= north
    gem_doc = client.get("/collections/gem-global").json()
    assert gem_doc["extent"]["temporal"]["interval"] == [["2020-08-10T00:00:00Z", "2020-08-10T00:00:00Z"]]
    assert gem_doc["parameter_names"]["t2m"]["unit"]["symbol"] == "K"


def test_hrdps_full_grid_equals_cfgrib(client, hrdps):
    """Every value, and every cell's position rebuilt from x/y + the grid mapping, as ecCodes reads them."""
    r = client.get("/collections/hrdps/coverage", params={"f": "netcdf"})
    assert r.status_code == 200, r.text[:300]
    ds = netcdf(r.content)
    crs = CRS.from_cf(ds[ds["t"].attrs.get("grid_mapping", "spatial_ref")].attrs) if "grid_mapping" in ds["t"].attrs \
        else CRS.from_wkt(ds["spatial_ref"].attrs["crs_wkt"])
    grid = ds["t"].isel({d: 0 for d in ds["t"].dims if d not in ("y", "x")}).transpose("y", "x")  # time, height: length 1
    assert grid.shape == hrdps["t"].shape
    np.testing.assert_array_equal(grid.values, hrdps["t"].values)
    xx, yy = np.meshgrid(ds["x"].values, ds["y"].values)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xx, yy)
    dlon = ((lon - hrdps.longitude.values + 180) % 360) - 180
    assert np.abs(dlon).max() < 1e-4 and np.abs(lat - hrdps.latitude.values).max() < 1e-4


@pytest.mark.parametrize("lon,lat", [(-100.2, 50.3), (-73.57, 45.5), (-123.1, 49.25), (-80.0, 43.7), (-110.0, 45.0)])
def test_hrdps_position_is_the_nearest_cell(client, hrdps, lon, lat):
    cov = covjson(client, "/collections/hrdps/position", coords=f"POINT({lon} {lat})")
    j, i = haversine_nearest(hrdps.latitude.values, hrdps.longitude.values, lon, lat)
    expected = hrdps["t"].values[j, i]
    assert np.isfinite(expected)
    assert np.float32(values(cov, "t").ravel()[0]) == expected  # JSON holds float32's shortest form
    assert cov["domain"]["axes"]["t"]["values"] == ["2020-10-27T05:00:00Z"]


def test_hrdps_point_inside_its_bbox_but_off_the_grid_is_400(client):
    """(-110, 35) lies in the CRS84 bounding box but south of the rotated grid's southern edge."""
    r = client.get("/collections/hrdps/position", params={"coords": "POINT(-110 35)"})
    assert r.status_code == 400 and r.json()["parameter"] == "coords"
    assert "native" in r.json()["detail"]


def test_hrdps_area_takes_cells_whose_centres_are_inside(client, hrdps):
    poly = [(-101.0, 49.0), (-99.0, 49.0), (-99.0, 51.0), (-101.0, 51.0)]
    wkt = "POLYGON((" + ",".join(f"{x} {y}" for x, y in poly + poly[:1]) + "))"
    cov = covjson(client, "/collections/hrdps/area", coords=wkt)
    got = values(cov, "t").astype("float32")
    lon = ((hrdps.longitude.values + 180) % 360) - 180
    inside = (lon >= -101) & (lon <= -99) & (hrdps.latitude.values >= 49) & (hrdps.latitude.values <= 51)
    expected = np.sort(hrdps["t"].values[inside])
    np.testing.assert_array_equal(np.sort(got[np.isfinite(got)]), expected)


def test_gem_position_and_cube_equal_xarray(client, gem):
    cov = covjson(client, "/collections/gem-global/position", coords="POINT(-73.6 45.5)")
    ref = gem["t2m"].sel(latitude=45.5, longitude=-73.6, method="nearest")
    assert np.float32(values(cov, "t2m").ravel()[0]) == ref.values
    assert cov["domain"]["axes"]["x"]["values"] == [pytest.approx(float(ref.longitude))]
    assert pd.Timestamp(cov["domain"]["axes"]["t"]["values"][0]) == pd.Timestamp("2020-08-10T00:00:00Z")
    cube = covjson(client, "/collections/gem-global/cube", bbox="-10,40,10,50")
    ref = gem["t2m"].sel(latitude=slice(40, 50), longitude=slice(-10, 10))
    got = values(cube, "t2m").astype("float32")
    assert got.shape[-2:] == ref.shape
    np.testing.assert_array_equal(got.reshape(ref.shape), ref.values)


def test_gem_dateline_wraps(client, gem):
    """179.95°E is 0.05° from the -180° column and 0.1° from 179.85°: the -180° cell is nearest."""
    cov = covjson(client, "/collections/gem-global/position", coords="POINT(179.95 0)")
    assert np.float32(values(cov, "t2m").ravel()[0]) == gem["t2m"].sel(latitude=0, longitude=-180.0, method="nearest").values


def test_gem_geotiff_is_the_grid(client, gem):
    import rasterio

    r = client.get("/collections/gem-global/coverage", params={"subset": "Lat(40:50),Lon(-10:10)", "f": "tif"})
    assert r.status_code == 200, r.text[:300]
    with rasterio.MemoryFile(io.BytesIO(r.content)) as mem, mem.open() as src:
        band = src.read(1)
        assert src.crs.to_epsg() == 4326
        ref = gem["t2m"].sel(latitude=slice(40, 50), longitude=slice(-10, 10))
        north_up = src.transform.e < 0
        np.testing.assert_array_equal(band, ref.sortby("latitude", ascending=not north_up).values)


# ---------------------------------------------------------------- files written here with ecCodes


def _write_messages(path, template: str, fields: list[tuple[str, int]]):
    """A GRIB2 file of messages cloned from a bundled one, each with (dataDate+hour, forecast hour) set."""
    import eccodes

    with open(DATASETS / template, "rb") as src, open(path, "wb") as out:
        base = eccodes.codes_grib_new_from_file(src)
        try:
            for k, (run, step) in enumerate(fields):
                h = eccodes.codes_clone(base)
                stamp = pd.Timestamp(run)
                eccodes.codes_set(h, "dataDate", int(stamp.strftime("%Y%m%d")))
                eccodes.codes_set(h, "dataTime", int(stamp.strftime("%H%M")))
                eccodes.codes_set(h, "forecastTime", step)
                vals = eccodes.codes_get_values(h)
                eccodes.codes_set_values(h, vals + k)  # each message distinguishable by value
                eccodes.codes_write(h, out)
                eccodes.codes_release(h)
        finally:
            eccodes.codes_release(base)


def test_lead_times_become_the_time_axis(tmp_path):
    from cubeserver.axes import build_axes
    from cubeserver.sources import open_gridded

    path = tmp_path / "steps.grib2"
    _write_messages(path, GEM, [("2020-08-10T00", 0), ("2020-08-10T00", 6), ("2020-08-10T00", 12)])
    ds = open_gridded(path, "grib")
    axes = build_axes(ds)
    assert axes.t == "time" and list(pd.DatetimeIndex(ds["time"].values).hour) == [0, 6, 12]
    assert pd.Timestamp(ds["reference_time"].values) == pd.Timestamp("2020-08-10T00")
    ref = cfgrib(GEM)["t2m"].values
    np.testing.assert_allclose(ds["t2m"].isel(time=2).values, ref + 2, atol=0.05)  # re-packed by ecCodes: 0.0125 K steps


def test_forecast_archive_serves_instances(tmp_path):
    """Two runs × two lead times: reference_time × step kept, so EDR instances browse run by run."""
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    path = tmp_path / "runs.grib2"
    runs = [("2020-08-10T00", 0), ("2020-08-10T00", 6), ("2020-08-10T12", 0), ("2020-08-10T12", 6)]
    _write_messages(path, GEM, runs)
    cfg = config_from_dict({"state_dir": str(tmp_path / "state"), "collections": {
        "gem-runs": {"path": str(path), "reference_time": "reference_time"}}}, tmp_path)
    with TestClient(create_app(cfg)) as c:
        ids = [i["id"] for i in c.get("/collections/gem-runs/instances").json()["instances"]]
        assert ids == ["2020-08-10T00:00:00Z", "2020-08-10T12:00:00Z"]
        cov = covjson(c, "/collections/gem-runs/instances/2020-08-10T12:00:00Z/position", coords="POINT(-73.6 45.5)")
        assert cov["domain"]["axes"]["t"]["values"] == ["2020-08-10T12:00:00Z", "2020-08-10T18:00:00Z"]
        ref = float(cfgrib(GEM)["t2m"].sel(latitude=45.5, longitude=-73.6, method="nearest"))
        np.testing.assert_allclose(values(cov, "t2m").ravel(), [ref + 2, ref + 3], atol=0.05)  # re-packed by ecCodes: 0.0125 K steps


def test_two_level_types_on_one_grid_are_two_variables(tmp_path, gem):
    import eccodes

    from cubeserver.sources import open_gridded

    path = tmp_path / "mixed.grib2"
    with open(DATASETS / GEM, "rb") as src, open(path, "wb") as out:
        base = eccodes.codes_grib_new_from_file(src)
        eccodes.codes_write(base, out)
        other = eccodes.codes_clone(base)
        eccodes.codes_set(other, "typeOfFirstFixedSurface", 1)  # at the surface instead of 2 m above it
        eccodes.codes_write(other, out)
        for h in (base, other):
            eccodes.codes_release(h)
    ds = open_gridded(path, "grib")
    assert sorted(ds.data_vars) == ["t", "t2m"]
    for name in ("t", "t2m"):
        np.testing.assert_array_equal(ds[name].isel(time=0).values, gem["t2m"].values)


def test_two_grids_in_one_file_is_a_config_error_saying_how_to_split(tmp_path):
    from cubeserver.sources import open_gridded

    path = tmp_path / "two-grids.grib2"
    path.write_bytes((DATASETS / GEM).read_bytes() + (DATASETS / HRDPS).read_bytes())
    with pytest.raises(ValueError, match="grib_copy") as err:
        open_gridded(path, "grib")
    assert "2 GRIB hypercubes" in str(err.value) and "t2m" in str(err.value)


def test_zarr_over_http_round_trips_the_projected_grid(live_server, hrdps):
    import rioxarray  # noqa: F401 - .rio accessor

    remote = xr.open_zarr(f"{live_server}/collections/hrdps/zarr")
    assert remote.rio.crs is not None and remote.rio.crs.is_projected
    np.testing.assert_array_equal(remote["t"].isel(time=0, heightAboveGround=0).values, hrdps["t"].values)
    assert remote["heightAboveGround"].values.tolist() == [80.0]  # the scalar 80 m level is a length-1 axis
    assert pd.Timestamp(remote["time"].values[0]) == pd.Timestamp("2020-10-27T05:00:00")
    assert pd.Timestamp(remote["reference_time"].values) == pd.Timestamp("2020-10-27T00:00:00")


def test_geotiff_band_names_the_lead_time(client):
    import rasterio

    r = client.get("/collections/hrdps/coverage", params={"bbox": "-101,49,-99,51", "f": "tif"})
    with rasterio.MemoryFile(io.BytesIO(r.content)) as mem, mem.open() as src:
        assert "step=P0DT5H0M0S" in src.descriptions[0] and src.tags(1)["step"] == "P0DT5H0M0S"
        assert src.tags(1)["reference_time"] == "2020-10-27T00:00:00Z"


def test_kelvin_is_claimed_as_ucum(client):
    cov = covjson(client, "/collections/gem-global/position", coords="POINT(-73.6 45.5)")
    assert cov["parameters"]["t2m"]["unit"]["symbol"] == {"value": "K", "type": "http://www.opengis.net/def/uom/UCUM/"}
