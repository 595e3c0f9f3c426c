"""Time encodings: "months since" on 360_day and standard calendars, missing and unordered time steps,
undecodable units, time bounds, re-encoding in NetCDF and Zarr answers, check-config.

Ground truth: the cases' right answers (../shared/cases/README.md), cftime/pandas arithmetic
and xarray reading the source files; never the server's own decoding code.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import timedelta

import cftime
import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.conftest import DATASETS, ROOT, client_for, serve_in_thread

A1B = DATASETS / "grids" / "A1B_north_america.nc"


@pytest.fixture(scope="module")
def served(cases, tmp_path_factory):
    """The time cases plus A1B (360_day, time_bnds) and a good collection, in-process and behind uvicorn (for Zarr)."""
    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    tmp = tmp_path_factory.mktemp("timecases")
    cols = {"c08": {"path": str(cases / "c08_360day.nc")}, "c09a": {"path": str(cases / "c09a_months_360.nc")},
            "c09b": {"path": str(cases / "c09b_months_std.nc")}, "c10": {"path": str(cases / "c10_nat_time.nc")},
            "a1b": {"path": str(A1B)}, "coads": {"path": str(DATASETS / "coads_sst.nc")}}
    app = create_app(config_from_dict({"state_dir": str(tmp / "state"), "collections": cols}, tmp))
    from fastapi.testclient import TestClient

    with serve_in_thread(app) as base, TestClient(app) as client:
        yield client, base


def nc(r) -> xr.Dataset:
    assert r.status_code == 200, r.text[:400]
    return xr.open_dataset(io.BytesIO(r.content)).load()


def nc_raw(r) -> xr.Dataset:
    """The answer's variables as stored (times as numbers with their attributes)."""
    assert r.status_code == 200, r.text[:400]
    return xr.open_dataset(io.BytesIO(r.content), decode_times=False).load()


# ------------------------------------------------------------------ c08: 360_day


def test_c08_feb_30_and_an_interval_to_dec_31(served):
    client, _ = served
    r = client.get("/collections/c08/position", params={"coords": "POINT(0 40)", "datetime": "2022-02-30T00:00:00Z"})
    assert r.status_code == 200, r.text
    assert r.json()["ranges"]["tas"]["values"] == [419.0]
    assert "2022-02-30T00:00:00Z" in client.get("/collections/c08").json()["extent"]["temporal"]["values"]
    r = client.get("/collections/c08/position", params={"coords": "POINT(0 40)", "datetime": "2023-12-01/2023-12-31"})
    assert r.status_code == 200, r.text
    t = r.json()["domain"]["axes"]["t"]["values"]
    assert t[0] == "2023-12-01T00:00:00Z" and t[-1] == "2023-12-30T00:00:00Z" and len(t) == 30


def test_c08_trajectory_m_in_the_axis_calendar(served, cases):
    """M values are seconds since 1970-01-01 counted in the axis's calendar (cftime.date2num)."""
    client, _ = served
    m = cftime.date2num(cftime.datetime(2022, 2, 30, calendar="360_day"), "seconds since 1970-01-01", "360_day")
    r = client.get("/collections/c08/trajectory", params={"coords": f"LINESTRINGM(0 40 {m}, 5 40 {m})"})
    assert r.status_code == 200, r.text
    src = xr.open_dataset(cases / "c08_360day.nc").tas.sel(time=cftime.datetime(2022, 2, 30, calendar="360_day"))
    assert r.json()["ranges"]["tas"]["values"][0] == float(src.sel(lat=40, lon=0))


def test_c08_geotiff_bands_name_360_day_dates(served, cases):
    import rasterio

    client, _ = served
    r = client.get("/collections/c08/coverage", params={"subset": 'time("2022-02-29":"2022-02-30")', "f": "geotiff"})
    assert r.status_code == 200, r.text[:300]
    src = xr.open_dataset(cases / "c08_360day.nc").tas.sel(lat=70, lon=-10)
    with rasterio.open(io.BytesIO(r.content)) as tif:
        assert [tif.tags(i)["time"] for i in (1, 2)] == ["2022-02-29T00:00:00Z", "2022-02-30T00:00:00Z"]
        want = [src.sel(time=cftime.datetime(2022, 2, d, calendar="360_day")).item() for d in (29, 30)]
        assert list(tif.read()[:, 0, 0]) == want


def test_c08_anomaly_baseline_ending_on_a_missing_day(served, cases):
    """Process inputs: a baseline ending 2021-12-31 (no such day in 360_day) clamps; datetime ends on Feb 30."""
    client, _ = served
    r = client.post("/processes/anomaly/execution", json={"inputs": {
        "collection": "c08", "variable": "tas", "baseline": "2021-01-01/2021-12-31",
        "datetime": "2022-02-01/2022-02-30", "bbox": [-1, 39, 1, 41]}, "response": "document"})
    assert r.status_code == 200, r.text[:400]
    job = r.headers["link"].split("/jobs/")[1].split(">")[0]
    out = nc(client.get(f"/jobs/{job}/results/result"))
    src = xr.open_dataset(cases / "c08_360day.nc").tas.sel(lat=40, lon=0)
    cal = "360_day"
    clim = src.sel(time=slice(cftime.datetime(2021, 2, 1, calendar=cal), cftime.datetime(2021, 2, 30, calendar=cal))).mean()
    target = src.sel(time=slice(cftime.datetime(2022, 2, 1, calendar=cal), cftime.datetime(2022, 2, 30, calendar=cal)))
    assert list(out.time.values) == list(target.time.values)
    np.testing.assert_allclose(out.tas.squeeze().values, (target - clim).values, rtol=1e-6)


# ------------------------------------------------------------------ c09a: months since, 360_day


C09A_TIMES = [cftime.datetime(1960, m, 16, calendar="360_day") for m in range(1, 13)]


@pytest.mark.parametrize("path, params", [
    ("/collections/c09a/coverage", {"f": "netcdf"}),
    ("/collections/c09a/cube", {"bbox": "-1,-1,31,21", "f": "netcdf"}),
    ("/collections/c09a/position", {"coords": "POINT(10 10)", "f": "netcdf"}),
    ("/collections/c09a/area", {"coords": "POLYGON((-1 -1,31 -1,31 21,-1 21,-1 -1))", "f": "netcdf"}),
])
def test_c09a_netcdf_answers_decode_in_every_client(served, path, params):
    client, _ = served
    r = client.get(path, params=params)
    out = nc(r)
    assert [(t.year, t.month, t.day, t.calendar) for t in out["T"].values] == \
        [(t.year, t.month, t.day, "360_day") for t in C09A_TIMES]
    raw = nc_raw(r)
    assert "since" in raw["T"].attrs["units"] and not raw["T"].attrs["units"].startswith(("months", "years"))
    assert raw["T"].attrs["calendar"] == "360_day"
    np.testing.assert_array_equal(out["temp"].values.reshape(12, -1)[:, 0], np.arange(12))


def test_c09a_zarr_over_http(served):
    _, base = served
    remote = xr.open_zarr(f"{base}/collections/c09a/zarr")
    assert list(remote["T"].values) == C09A_TIMES
    assert remote["T"].encoding["calendar"] == "360_day"
    assert not remote["T"].encoding["units"].startswith(("months", "years"))
    np.testing.assert_array_equal(remote["temp"].values[:, 0, 0], np.arange(12))


# ------------------------------------------------------------------ c09b: months since, standard


def calendar_months(values) -> list[pd.Timestamp]:
    """Month n + f after 1960-01-01: whole months, plus f of that month's length (pandas arithmetic)."""
    return calendar_months_from("1960-01-01", values)


def test_c09b_decoded_as_calendar_months_and_said_so(served, cases):
    client, _ = served
    with netCDF4.Dataset(cases / "c09b_months_std.nc") as f:
        raw = np.asarray(f["T"][:], dtype="float64")
    expected = calendar_months(raw)
    doc = client.get("/collections/c09b").json()["extent"]["temporal"]
    assert [pd.Timestamp(t).tz_localize(None) for t in doc["values"]] == expected
    assert "calendar months" in doc["description"] and "months since 1960-01-01" in doc["description"]
    assert "calendar months" in client.get("/collections/c09b", params={"f": "html"}).text
    out = nc(client.get("/collections/c09b/coverage", params={"f": "netcdf"}))
    assert [pd.Timestamp(t) for t in out["T"].values] == expected
    assert "calendar months" in out["T"].attrs["comment"]
    r = client.get("/collections/c09b/position", params={"coords": "POINT(10 10)", "datetime": "1960-02-15T12:00:00Z"})
    assert r.status_code == 200 and r.json()["ranges"]["temp"]["values"] == [1.0]
    assert client.get("/collections/coads").status_code == 200  # the other collections are served alongside


def test_check_config_reports_the_decoding_and_no_nat(cases, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("collections:\n"
                   f"  c09b: {{path: {cases / 'c09b_months_std.nc'}}}\n"
                   f"  c10: {{path: {cases / 'c10_nat_time.nc'}}}\n"
                   f"  coads: {{path: {DATASETS / 'coads_sst.nc'}}}\n")
    r = subprocess.run([sys.executable, "-m", "cubeserver.cli", "check-config", str(cfg)], capture_output=True,
                       text=True, cwd=str(ROOT), timeout=300)
    assert r.returncode == 0, r.stderr
    docs = {d["id"]: d for d in map(json.loads, r.stdout.splitlines())}
    assert "calendar months" in docs["c09b"]["time_decoding"]
    assert docs["c10"]["time"] == ["2018-01-01T00:00:00Z", "2018-01-01T03:00:00Z"]
    assert "NaT" not in r.stdout and "decode_times" not in r.stdout + r.stderr
    assert "collections.c10" in r.stderr and "missing" in r.stderr  # the one log line naming the collection


# ------------------------------------------------------------------ c10: a missing time value


def test_c10_missing_step_left_out(served, cases):
    client, _ = served
    r = client.get("/collections/c10/position", params={"coords": "POINT(4 50)", "datetime": "2018-01-01T03:00:00Z"})
    assert r.status_code == 200, r.text
    assert r.json()["ranges"]["wind"]["values"] == [3.0]
    assert r.json()["domain"]["axes"]["t"]["values"] == ["2018-01-01T03:00:00Z"]
    src = xr.open_dataset(cases / "c10_nat_time.nc")
    valid = src.time.values[~np.isnat(src.time.values)]
    out = nc(client.get("/collections/c10/coverage", params={"f": "netcdf"}))
    np.testing.assert_array_equal(out.time.values, valid)
    np.testing.assert_array_equal(out.wind.values[:, 0, 0], src.wind.sel(time=valid).values[:, 0, 0])
    assert "_FillValue" not in nc_raw(client.get("/collections/c10/coverage", params={"f": "netcdf"})).time.attrs


@pytest.mark.parametrize("path, params", [
    ("/collections/c10", {}), ("/collections/c10", {"f": "html"}), ("/collections", {}), ("/collections", {"f": "html"}),
    ("/collections/c10/coverage", {"f": "json"}), ("/collections/c10/coverage/domainset", {}),
    ("/collections/c10/position", {"coords": "POINT(4 50)"}),
    ("/collections/c10/position", {"coords": "POINT(4 50)", "f": "csv"}),
    ("/collections/c10/position", {"coords": "POINT(4 50)", "f": "geojson"}),
    ("/collections/c10/cube", {"bbox": "3,49,6,52"}),
    ("/collections/c10/zarr/.zmetadata", {}),
])
def test_c10_no_nat_anywhere(served, path, params):
    client, _ = served
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text[:300]
    assert "NaT" not in r.text


def test_c10_zarr_time_has_no_fill(served, cases):
    _, base = served
    remote = xr.open_zarr(f"{base}/collections/c10/zarr")
    src = xr.open_dataset(cases / "c10_nat_time.nc")
    np.testing.assert_array_equal(remote.time.values, src.time.values[~np.isnat(src.time.values)])


# ------------------------------------------------------------------ A1B: real 360_day file with time_bnds


def test_a1b_position_series_equals_xarray(served):
    client, _ = served
    src = xr.open_dataset(A1B)
    r = client.get("/collections/a1b/position", params={"coords": "POINT(-100 40)", "datetime": "1900-01-01/1930-02-30"})
    assert r.status_code == 200, r.text
    doc = r.json()
    lo, hi = cftime.datetime(1900, 1, 1, calendar="360_day"), cftime.datetime(1930, 2, 30, 23, calendar="360_day")
    exp = src.air_temperature.sel(time=slice(lo, hi)).sel(longitude=260.0, latitude=40.0, method="nearest")
    assert doc["domain"]["axes"]["t"]["values"] == [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in exp.time.values]
    np.testing.assert_allclose(doc["ranges"]["air_temperature"]["values"], exp.values, rtol=1e-6)


def test_a1b_netcdf_keeps_cftime_values_calendar_and_bounds(served):
    client, _ = served
    src = xr.open_dataset(A1B)
    out = nc(client.get("/collections/a1b/cube", params={"bbox": "-100,40,-95,45", "datetime": "1900-01-01/1910-12-30",
                                                          "f": "netcdf"}))
    sel = src.sel(time=slice(cftime.datetime(1900, 1, 1, calendar="360_day"), cftime.datetime(1910, 12, 30, 23, calendar="360_day")))
    assert list(out.time.values) == list(sel.time.values)
    assert out.time.encoding["calendar"] == "360_day"
    assert out.time.attrs.get("bounds") == "time_bnds"
    assert list(out.time_bnds.values.ravel()) == list(sel.time_bnds.values.ravel())


# ------------------------------------------------------------------ synthetic: years since, unordered, undecodable


def _write(path, values, units, calendar="standard", fill=None):
    with netCDF4.Dataset(path, "w") as f:
        f.createDimension("time", len(values))
        f.createDimension("lat", 2)
        f.createDimension("lon", 2)
        t = f.createVariable("time", "f8", ("time",), fill_value=fill)
        t.units, t.calendar, t.standard_name = units, calendar, "time"
        t[:] = values
        la = f.createVariable("lat", "f4", ("lat",))
        la.units, la[:] = "degrees_north", [0, 1]
        lo = f.createVariable("lon", "f4", ("lon",))
        lo.units, lo[:] = "degrees_east", [0, 1]
        v = f.createVariable("v", "f4", ("time", "lat", "lon"))
        v[:] = np.arange(len(values))[:, None, None] + np.zeros((len(values), 2, 2))


def test_years_since_on_noleap(tmp_path):
    _write(tmp_path / "y.nc", [0.0, 0.5, 1.0, 2.25], "years since 2000-01-01", "noleap")
    start = [cftime.datetime(y, 1, 1, calendar="noleap") for y in (2000, 2000, 2001, 2002)]
    expected = [s + timedelta(days=365 * f) for s, f in zip(start, (0, 0.5, 0, 0.25))]
    with client_for({"y": {"path": str(tmp_path / "y.nc")}}, tmp_path) as client:
        out = nc(client.get("/collections/y/coverage", params={"f": "netcdf"}))
        assert list(out.time.values) == expected
        r = client.get("/collections/y/position", params={"coords": "POINT(0 0)", "datetime": "2000-07-02T12:00:00Z"})
        assert r.json()["ranges"]["v"]["values"] == [1.0]


def test_unordered_and_repeated_steps_are_sorted(tmp_path):
    _write(tmp_path / "u.nc", [2.0, 0.0, 1.0, 1.0], "days since 2000-01-01")
    src = xr.open_dataset(tmp_path / "u.nc")
    _, first = np.unique(src.time.values, return_index=True)
    exp = src.isel(time=first).sortby("time")
    with client_for({"u": {"path": str(tmp_path / "u.nc")}}, tmp_path) as client:
        out = nc(client.get("/collections/u/coverage", params={"f": "netcdf"}))
        np.testing.assert_array_equal(out.time.values, exp.time.values)
        np.testing.assert_array_equal(out.v.values, exp.v.values)
        r = client.get("/collections/u/position", params={"coords": "POINT(0 0)", "datetime": "2000-01-03"})
        assert r.json()["ranges"]["v"]["values"] == [0.0]


@pytest.mark.parametrize("units, calendar", [("days since banana", "standard"), ("fortnights since 2000-01-01", "standard"),
                                             ("months since 2000-13-01", "standard")])
def test_undecodable_time_names_the_collection(tmp_path, units, calendar):
    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    _write(tmp_path / "bad.nc", [0.0, 1.0], units, calendar)
    raw = {"state_dir": str(tmp_path / "s"), "collections": {"bad": {"path": str(tmp_path / "bad.nc")}}}
    with pytest.raises(ValueError) as e:
        create_app(config_from_dict(raw, tmp_path))
    msg = str(e.value)
    assert msg.startswith("collections.bad.path:") and "'time'" in msg and units in msg
    assert "decode_times" not in msg


def test_multi_file_months_since_each_from_its_own_reference(tmp_path):
    """A glob of files each counting "months since" its own start (standard calendar): decoded per file."""
    for name, ref in (("a.nc", "2000-01-01"), ("b.nc", "2000-07-01")):
        _write(tmp_path / name, np.arange(6) + 0.5, f"months since {ref}")
    expected = calendar_months_from("2000-01-01", np.arange(12) + 0.5)
    with client_for({"m": {"path": str(tmp_path / "*.nc")}}, tmp_path) as client:
        out = nc(client.get("/collections/m/coverage", params={"f": "netcdf"}))
        assert [pd.Timestamp(t) for t in out.time.values] == expected
        np.testing.assert_array_equal(out.v.values[:, 0, 0], np.concatenate([np.arange(6), np.arange(6)]))


def calendar_months_from(ref: str, values) -> list[pd.Timestamp]:
    out = []
    for v in values:
        n = int(np.floor(v))
        start = pd.Timestamp(ref) + pd.DateOffset(months=n)
        out.append(start + ((start + pd.DateOffset(months=1)) - start) * (v - n))
    return out


def test_c09b_zarr_over_http(served, cases):
    _, base = served
    remote = xr.open_zarr(f"{base}/collections/c09b/zarr")
    with netCDF4.Dataset(cases / "c09b_months_std.nc") as f:
        raw = np.asarray(f["T"][:], dtype="float64")
    assert [pd.Timestamp(t) for t in remote["T"].values] == calendar_months(raw)
    assert not remote["T"].encoding["units"].startswith(("months", "years"))
    assert "calendar months" in remote["T"].attrs["comment"]


def test_months_since_in_a_zarr_source(cases, tmp_path):
    """The same decoding for a Zarr store whose time counts "months since" on the standard calendar."""
    xr.open_dataset(cases / "c09b_months_std.nc", decode_times=False).to_zarr(tmp_path / "m.zarr", consolidated=True)
    with netCDF4.Dataset(cases / "c09b_months_std.nc") as f:
        raw = np.asarray(f["T"][:], dtype="float64")
    with client_for({"mz": {"path": str(tmp_path / "m.zarr"), "format": "zarr"}}, tmp_path) as client:
        out = nc(client.get("/collections/mz/coverage", params={"f": "netcdf"}))
        assert [pd.Timestamp(t) for t in out["T"].values] == calendar_months(raw)
