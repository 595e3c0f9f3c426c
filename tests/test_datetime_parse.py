"""The calendar-free `datetime` parser: RFC 3339 spellings, zones, reduced precision, bad syntax.

Expected steps come from xarray/pandas reading the source (partial-date slices) or from cftime
arithmetic in the axis calendar; the server's parser is only exercised through HTTP.
"""

from __future__ import annotations

from datetime import timedelta

import cftime
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.conftest import client_for, open_source


def series(client, path: str, **params) -> list[pd.Timestamp]:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text[:400]
    return [pd.Timestamp(t).tz_localize(None) for t in r.json()["domain"]["axes"]["t"]["values"]]


def coads_times(sl: slice) -> list[pd.Timestamp]:
    return [pd.Timestamp(t).floor("s") for t in open_source("coads_sst.nc").TIME.sel(TIME=sl).values]


@pytest.mark.parametrize("interval, sl", [
    ("2000-03/2000-06", slice("2000-03", "2000-06")),  # month precision: a whole month at each end
    ("../2000-02", slice(None, "2000-02")),
    ("2000-11/..", slice("2000-11", None)),
    ("2000/2000", slice("2000", "2000")),  # year precision
    ("2000-03-16/2000-05-16", slice("2000-03-16", "2000-05-16")),  # day precision: the whole end day
])
def test_reduced_precision_interval_ends_cover_their_unit(client, interval, sl):
    got = series(client, "/collections/coads/position", coords="POINT(-30 40)", datetime=interval)
    assert got == coads_times(sl)


@pytest.mark.parametrize("spelling", [
    "2000-01-16T06:00:00Z", "2000-01-16t06:00:00z", "2000-01-16 06:00:00Z", "2000-01-16T06:00Z",
    "2000-01-16T08:00:00+02:00", "2000-01-16T01:30:00-04:30", "2000-01-16T0800+0200", "20000116T060000Z",
    "2000-01-16T06:00:00.000000Z", "2000-01-16T06:00:00.5Z", "2000-01-16T06",
])
def test_rfc3339_spellings_of_one_instant(client, spelling):
    got = series(client, "/collections/coads/position", coords="POINT(-30 40)", datetime=spelling)
    assert got == [pd.Timestamp(open_source("coads_sst.nc").TIME.values[0])]


@pytest.mark.parametrize("bad", ["2000-1-16", "2000-01-16T25:00:00Z", "2000-01-32", "2000-13", "16/01/2000",
                                 "2000-01-16T06:00:00+24:00", "\u0662\u0660\u0660\u0660-01-16", "2000-01-16T06:00:60Z",
                                 "T06:00", "2000T06", "now", "2000-02-30"])
def test_bad_datetimes_are_400_naming_datetime(client, bad):
    r = client.get("/collections/coads/position", params={"coords": "POINT(-30 40)", "datetime": bad})
    assert r.status_code == 400, (bad, r.text[:300])
    assert r.json()["parameter"] == "datetime"


def test_zone_offset_is_applied_in_the_axis_calendar(cases, tmp_path):
    """2022-03-01T00:00+14:00 is 2022-02-30T10:00Z in a 360_day calendar (Feb 28 10:00 in the Gregorian one)."""
    src = xr.open_dataset(cases / "c08_360day.nc")
    utc = cftime.datetime(2022, 3, 1, calendar="360_day") - timedelta(hours=14)
    nearest = src.tas.sel(time=utc, method="nearest").sel(lat=40, lon=0).item()
    with client_for({"c08": {"path": str(cases / "c08_360day.nc")}}, tmp_path) as client:
        r = client.get("/collections/c08/position", params={"coords": "POINT(0 40)", "datetime": "2022-03-01T00:00:00+14:00"})
        assert r.status_code == 200, r.text
        assert r.json()["ranges"]["tas"]["values"] == [nearest]
        assert r.json()["domain"]["axes"]["t"]["values"] == ["2022-02-30T00:00:00Z"]


def test_job_list_datetime_uses_the_same_parser(client):
    assert client.get("/jobs", params={"datetime": "2000-01-01T00:00:00+02:00/.."}).status_code == 200
    r = client.get("/jobs", params={"datetime": "2021-02-29"})
    assert r.status_code == 400 and r.json()["parameter"] == "datetime" and "does not exist" in r.json()["detail"]


def test_half_step_tolerance_outside_the_extent_is_kept(client):
    """An instant within half a step of the first/last step still selects it; further out selects no time step:
    204 No Content for EDR (/req/edr/query_type/no-data)."""
    t = open_source("coads_sst.nc").TIME.values
    half = (t[1] - t[0]) / 2
    inside = pd.Timestamp(t[0] - half + np.timedelta64(1, "h")).strftime("%Y-%m-%dT%H:%M:%SZ")
    outside = pd.Timestamp(t[0] - half - np.timedelta64(1, "h")).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert series(client, "/collections/coads/position", coords="POINT(-30 40)", datetime=inside) == [pd.Timestamp(t[0])]
    r = client.get("/collections/coads/position", params={"coords": "POINT(-30 40)", "datetime": outside})
    assert r.status_code == 204 and r.content == b""
