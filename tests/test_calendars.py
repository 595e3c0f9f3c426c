"""Every CF calendar in every datetime input: EDR, Coverages `datetime` and `subset=time(...)`, process inputs.

One small synthetic daily file per calendar (CF 1.11 section 4.4.2 names and aliases). Whether a
day exists is asked of cftime, expected steps are found by comparing the source's own
(year, month, day) fields, and values are read with xarray from the file: nothing here
reuses the server's calendar code.
"""

from __future__ import annotations

import io

import cftime
import numpy as np
import pytest
import xarray as xr

from tests.conftest import client_for

CALENDARS = ["standard", "gregorian", "proleptic_gregorian", "julian", "noleap", "365_day", "all_leap", "366_day",
             "360_day"]
CANONICAL = {"gregorian": "standard", "365_day": "noleap", "366_day": "all_leap"}
# days that exist in some calendars only: Feb 29 of a common and a leap year, Feb 30, Dec 31
DAYS = [(2023, 2, 29), (2024, 2, 29), (2024, 2, 30), (2023, 12, 31), (2023, 3, 31)]
LAT, LON = 10.0, 30.0


def exists(day: tuple, calendar: str) -> bool:
    try:
        cftime.datetime(*day, calendar=calendar)
    except ValueError:
        return False
    return True


def text(day: tuple) -> str:
    return "%04d-%02d-%02d" % day


def write(path, calendar: str) -> None:
    """Daily steps 2023-02-01 .. 2024-03-30 of `calendar`; value = step number + 0.25 (lat/lon offsets per cell)."""
    times = xr.date_range("2023-02-01", "2024-03-30", freq="D", calendar=calendar, use_cftime=True)
    n = len(times)
    lat, lon = np.array([LAT, 20.0]), np.array([LON, 40.0])
    data = (np.arange(n)[:, None, None] + 0.25 + 1000 * (lat[None, :, None] != LAT) + 2000 * (lon[None, None, :] != LON))
    ds = xr.Dataset({"tas": (("time", "lat", "lon"), data.astype("float32"), {"units": "K"})},
                    coords={"time": times, "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
                            "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})})
    ds.time.encoding.update(units="days since 2023-01-01", calendar=calendar)
    ds.to_netcdf(path)


@pytest.fixture(scope="module")
def calendars(tmp_path_factory):
    """{calendar: source Dataset (cftime times)} and a client serving one collection per calendar (`cal-<name>`)."""
    tmp = tmp_path_factory.mktemp("calendars")
    sources = {}
    for cal in CALENDARS:
        path = tmp / f"{cal}.nc"
        write(path, cal)
        sources[cal] = xr.open_dataset(path, use_cftime=True).load()
    with client_for({f"cal-{c}": {"path": str(tmp / f"{c}.nc")} for c in CALENDARS}, tmp) as client:
        yield sources, client


def fields(src: xr.Dataset) -> list[tuple]:
    return [(t.year, t.month, t.day) for t in src.time.values]


def iso(src: xr.Dataset, idx) -> list[str]:
    return [src.time.values[i].strftime("%Y-%m-%dT%H:%M:%SZ") for i in idx]


def at(src: xr.Dataset, idx) -> list[float]:
    return [float(v) for v in src.tas.sel(lat=LAT, lon=LON).values[idx]]


def position(client, cal, **params):
    return client.get(f"/collections/cal-{cal}/position", params={"coords": f"POINT({LON} {LAT})", **params})


def coverage_json(client, cal, **params):
    return client.get(f"/collections/cal-{cal}/coverage", params={"f": "json", "bbox": "29,9,31,11", **params})


def covjson_series(r, name: str = "tas") -> tuple[list[str], list[float]]:
    assert r.status_code == 200, r.text[:400]
    doc = r.json()
    vals = [float(v) for v in np.asarray(doc["ranges"][name]["values"], dtype="float64").ravel()]
    return doc["domain"]["axes"]["t"]["values"], vals


PAIRS = [(c, d) for c in CALENDARS for d in DAYS]


@pytest.mark.parametrize("cal, day", [p for p in PAIRS if exists(p[1], p[0])], ids=lambda v: str(v))
def test_a_day_the_calendar_has_is_selected(calendars, cal, day):
    sources, client = calendars
    src = sources[cal]
    want = src.tas.sel(time=cftime.datetime(*day, calendar=cal), lat=LAT, lon=LON).item()
    i = [fields(src).index(day)]
    for r in (position(client, cal, datetime=text(day)),
              position(client, cal, datetime=f"{text(day)}T00:00:00Z"),
              position(client, cal, datetime=f"{text(day)}/{text(day)}"),
              client.get(f"/collections/cal-{cal}/cube", params={"bbox": "29,9,31,11", "datetime": text(day)}),
              coverage_json(client, cal, datetime=text(day)),
              coverage_json(client, cal, subset=f'time("{text(day)}T00:00:00Z")'),
              coverage_json(client, cal, subset=f'time("{text(day)}":"{text(day)}T12:00:00Z")')):
        t, v = covjson_series(r)
        assert t == iso(src, i) and v == [want]


@pytest.mark.parametrize("cal, day", [p for p in PAIRS if not exists(p[1], p[0])], ids=lambda v: str(v))
def test_a_day_the_calendar_lacks_is_400_as_an_instant(calendars, cal, day):
    _, client = calendars
    for r, param in ((position(client, cal, datetime=text(day)), "datetime"),
                     (coverage_json(client, cal, datetime=f"{text(day)}T06:00:00Z"), "datetime"),
                     (coverage_json(client, cal, subset=f'time("{text(day)}")'), "subset")):
        assert r.status_code == 400, r.text[:300]
        body = r.json()
        assert body["parameter"] == param
        name = CANONICAL.get(cal, cal)
        assert f"does not exist in the {name} calendar" in body["detail"] and text(day) in body["detail"]


@pytest.mark.parametrize("cal, day", [p for p in PAIRS if not exists(p[1], p[0])], ids=lambda v: str(v))
def test_a_day_the_calendar_lacks_clamps_an_interval(calendars, cal, day):
    sources, client = calendars
    src = sources[cal]
    f = fields(src)
    start = (day[0], day[1], 20)
    end = (day[0] + day[1] // 12, day[1] % 12 + 1, 5)
    upto = [k for k, d in enumerate(f) if start <= d < day]  # the written day itself is not there
    after = [k for k, d in enumerate(f) if day < d <= end]
    for r in (position(client, cal, datetime=f"{text(start)}/{text(day)}"),
              coverage_json(client, cal, datetime=f"{text(start)}/{text(day)}T23:00:00Z"),
              coverage_json(client, cal, subset=f'time("{text(start)}":"{text(day)}")')):
        assert covjson_series(r) == (iso(src, upto), at(src, upto))
    for r in (position(client, cal, datetime=f"{text(day)}/{text(end)}"),
              coverage_json(client, cal, subset=f'time("{text(day)}T00:00:00Z":"{text(end)}")')):
        assert covjson_series(r) == (iso(src, after), at(src, after))


@pytest.mark.parametrize("cal", CALENDARS)
def test_process_datetime_input_follows_the_calendar(calendars, cal):
    """temporal-aggregate's `datetime` ending on Feb 30 (or the nearest the calendar has) = numpy mean on the source."""
    sources, client = calendars
    src = sources[cal]
    f = fields(src)
    idx = [k for k, d in enumerate(f) if (2024, 2, 20) <= d <= (2024, 2, 30)]
    r = client.post("/processes/temporal-aggregate/execution", json={"inputs": {
        "collection": f"cal-{cal}", "variables": "tas", "reducer": "mean", "datetime": "2024-02-20/2024-02-30"},
        "response": "document"})
    assert r.status_code == 200, r.text[:400]
    job = r.headers["link"].split("/jobs/")[1].split(">")[0]
    out = xr.open_dataset(io.BytesIO(client.get(f"/jobs/{job}/results/result").content))
    got = out.tas.sel(lat=LAT, lon=LON).item()
    np.testing.assert_allclose(got, np.mean(src.tas.sel(lat=LAT, lon=LON).values[idx]), rtol=1e-6)


@pytest.mark.parametrize("cal", CALENDARS)
def test_answers_name_the_calendar(calendars, cal):
    sources, client = calendars
    name = CANONICAL.get(cal, cal)
    doc = client.get(f"/collections/cal-{cal}").json()
    assert CANONICAL.get(doc["extent"]["temporal"]["calendar"], doc["extent"]["temporal"]["calendar"]) == name
    ref = position(client, cal, datetime="2024-02-01").json()["domain"]["referencing"]
    trs = next(r["system"] for r in ref if r["coordinates"] == ["t"])
    assert trs["type"] == "TemporalRS"
    if name in ("standard", "proleptic_gregorian"):
        assert trs["calendar"] == "Gregorian"
    else:
        assert trs["calendar"].endswith(f"/{name}")
    r = client.get(f"/collections/cal-{cal}/coverage", params={"f": "netcdf", "datetime": "2024-02-01/2024-02-10"})
    out = xr.open_dataset(io.BytesIO(r.content), use_cftime=True)
    assert CANONICAL.get(out.time.encoding["calendar"], out.time.encoding["calendar"]) == name
    src = sources[cal]
    idx = [k for k, d in enumerate(fields(src)) if (2024, 2, 1) <= d <= (2024, 2, 10)]
    assert list(out.time.values) == list(src.time.values[idx])


# ------------------------------------------------------------------ real daily CMIP6 files (julian, noleap)

from tests.conftest import DATASETS  # noqa: E402

REAL = {"julian": DATASETS / "cmip6_day_ta" / "ta_day_IITM-ESM_historical_r1i1p1f1_gn_20000101-20041231.nc",
        "noleap": DATASETS / "cmip6_day_ta" / "ta_day_TaiESM1_historical_r1i1p1f1_gn_20000101-20091231.nc"}


@pytest.fixture(scope="module")
def real_daily(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("real-daily")
    with client_for({cal: {"path": str(p)} for cal, p in REAL.items()}, tmp) as client:
        yield client


@pytest.mark.parametrize("cal, day", [("julian", (2001, 2, 29)), ("noleap", (2004, 2, 29)), ("julian", (2004, 2, 29))])
def test_real_daily_files_follow_their_calendar(real_daily, cal, day):
    src = xr.open_dataset(REAL[cal])
    lat, lon = float(src.lat.values[0]), float(src.lon.values[1])
    point = src.ta.sel(lat=lat, lon=lon, plev=85000.0)
    params = {"coords": f"POINT({lon} {lat})", "z": "85000"}
    start = (day[0], day[1], 25)
    if exists(day, cal):
        r = real_daily.get(f"/collections/{cal}/position", params={**params, "datetime": f"{text(day)}T12:00:00Z"})
        t, v = covjson_series(r, "ta")
        want = point.sel(time=cftime.datetime(*day, 12, calendar=cal))
        assert t == [f"{text(day)}T12:00:00Z"] and v == pytest.approx([float(want)], rel=1e-6)
    else:
        r = real_daily.get(f"/collections/{cal}/position", params={**params, "datetime": text(day)})
        assert r.status_code == 400 and f"does not exist in the {cal} calendar" in r.json()["detail"]
    r = real_daily.get(f"/collections/{cal}/position", params={**params, "datetime": f"{text(start)}/{text(day)}"})
    idx = [k for k, d in enumerate(fields(src)) if start <= d <= day]
    t, v = covjson_series(r, "ta")
    assert t == [src.time.values[k].strftime("%Y-%m-%dT%H:%M:%SZ") for k in idx]
    np.testing.assert_allclose(v, point.values[idx], rtol=1e-6)


def test_real_multi_file_proleptic_gregorian(tmp_path):
    """65 yearly CMIP6 files (proleptic_gregorian, time_bnds): one series across file boundaries, as xarray reads it."""
    files = str(DATASETS / "cmip6_awi_ta" / "*.nc")
    src = xr.open_mfdataset(files, combine="by_coords").load()
    lat, lon = float(src.lat.values[0]), float(src.lon.values[1])
    exp = src.ta.sel(plev=92500.0, lat=lat, lon=lon).sel(time=slice("1959-11", "1961-02"))
    with client_for({"awi": {"path": files}}, tmp_path) as client:
        r = client.get("/collections/awi/position", params={"coords": f"POINT({lon} {lat})", "z": "92500",
                                                            "datetime": "1959-11/1961-02"})
        assert r.status_code == 200 and r.json()["type"] == "Coverage", r.text[:300]
        t, v = covjson_series(r, "ta")
        assert t == [str(x)[:19] + "Z" for x in exp.time.values]
        np.testing.assert_allclose(v, exp.values, rtol=1e-6)
        assert client.get("/collections/awi").json()["extent"]["temporal"]["calendar"] == "proleptic_gregorian"
        out = xr.open_dataset(io.BytesIO(client.get("/collections/awi/position", params={
            "coords": f"POINT({lon} {lat})", "datetime": "1959-11/1961-02", "f": "netcdf"}).content))
        assert out.time.encoding["calendar"] == "proleptic_gregorian"
        np.testing.assert_array_equal(out.time_bnds.values, src.time_bnds.sel(time=exp.time).values)
