"""A time axis without a `calendar` attribute is CF's default `standard` calendar in the metadata and in
every NetCDF answer alike (xarray alone would write numpy times back as proleptic_gregorian)."""

from __future__ import annotations

import io

import xarray as xr

from tests.conftest import client_for


def test_no_calendar_attribute_is_standard_everywhere(cases, tmp_path):
    with xr.open_dataset(cases / "c10_nat_time.nc", decode_times=False) as raw:
        assert "calendar" not in raw.time.attrs  # the source says nothing: CF 4.4.1 default
    with client_for({"c10": {"path": str(cases / "c10_nat_time.nc")}}, tmp_path) as c:
        meta = c.get("/collections/c10", params={"f": "json"}).json()
        assert "standard" in str(meta["extent"]["temporal"])
        r = c.get("/collections/c10/coverage", params={"f": "netcdf"})
        assert r.status_code == 200
        with xr.open_dataset(io.BytesIO(r.content), decode_times=False) as out:
            assert out.time.attrs["calendar"] == "standard"
