"""An interval end written as a date covers that whole day (ISO 8601 day precision)."""

from __future__ import annotations

import pandas as pd

from tests.conftest import open_source
from tests.edr.conftest import covjson


def test_date_only_end_includes_the_day(client):
    # the README's example: MUR steps are at 09:00, so 2005-12-12 must include 2005-12-12T09:00
    cov = covjson(client, "/collections/mur-sst/cube", bbox="-27.8,40.2,-27.6,40.3",
                  datetime="2005-12-10/2005-12-12", parameter_name="analysed_sst")
    times = open_source("analysed_sst.zarr").time.sel(time=slice("2005-12-10", "2005-12-12")).values
    assert [pd.Timestamp(t) for t in cov["domain"]["axes"]["t"]["values"]] == \
        [pd.Timestamp(t).tz_localize("UTC") for t in times]
    assert len(times) == 3


def test_date_time_end_is_exact(client):
    cov = covjson(client, "/collections/mur-sst/cube", bbox="-27.8,40.2,-27.6,40.3",
                  datetime="2005-12-10T00:00:00Z/2005-12-12T00:00:00Z", parameter_name="analysed_sst")
    assert len(cov["domain"]["axes"]["t"]["values"]) == 2


def test_date_only_end_on_a_noleap_calendar(client):
    cov = covjson(client, "/collections/cmip5-pr/position", coords="POINT(-100 50)", datetime="2050-01-01/2050-07-01")
    assert cov["domain"]["axes"]["t"]["values"] == ["2050-07-01T06:00:00Z"]
