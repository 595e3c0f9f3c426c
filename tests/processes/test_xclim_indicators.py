"""xclim indicators as processes, on real bundled data, each value against xclim called directly.

Covers: a threshold count (frost days, tropical nights), a spell-length index (heat wave
index), a percentile-based index with a baseline (tg90p), precipitation indices on a seeded
CMIP6-like daily series (cdd, r10mm) and on the CMIP5 file (prcptot, alias standard name),
a seasonal index with an indexer (tg_mean JJA), non-standard calendars (noleap, julian,
proleptic_gregorian, 360_day), and the result served as a job-{id} collection (EDR).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from ..conftest import client_for
from .xclim_support import PLEV, assert_values, collections, direct, run, source, times

pytest.importorskip("xclim")


@pytest.fixture(scope="module")
def xc(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xclim")
    with client_for(collections(tmp), tmp, dask={"workers": 1}) as c:
        c.tmp = tmp
        yield c


def ta(name: str, period: slice | None = None) -> xr.DataArray:
    da = source(name)["ta"].sel(plev=[PLEV])  # the server keeps the selected level as a length-1 axis
    return da.sel(time=period) if period is not None else da


def test_frost_days_ipsl_standard_calendar(xc):
    """Threshold count: frost days (tasmin < 0 degC) per year at 850 hPa, IPSL 2001-2010."""
    out, _ = run(xc, "xclim.atmos.frost_days", {"collection": "ipsl", "z": PLEV, "datetime": "2001-01-01/2010-12-31"})
    want = direct("frost_days", tasmin=ta("ipsl", slice("2001-01-01", "2010-12-31")))
    assert_values(out["frost_days"], want)
    assert times(out) == [f"{y}-01-01" for y in range(2001, 2011)]
    assert 0 < float(want.min()) < float(want.max()) <= 366  # a field that can tell right from wrong
    assert out["frost_days"].attrs["units"] == "days"
    assert "frost_days" in out["frost_days"].attrs["history"] or "frost_days" in out.attrs["xclim_indicator"]
    assert out.attrs["xclim_version"] == __import__("xclim").__version__


def test_tropical_nights_threshold_with_units_noleap(xc):
    """Threshold with units (2 degC given in degF must give the same days), TaiESM1 noleap."""
    out, _ = run(xc, "xclim.atmos.tropical_nights", {"collection": "taiesm", "z": PLEV, "thresh": "35.6 degF",
                                                     "freq": "MS", "datetime": "2003-01-01/2004-12-31"})
    da = ta("taiesm", slice("2003-01-01", "2004-12-31"))
    want = direct("tropical_nights", tasmin=da, thresh="2 degC", freq="MS")
    assert_values(out["tropical_nights"], want)
    assert float(want.max()) > 0 and float(want.min()) == 0
    assert out.time.encoding.get("calendar") in ("noleap", "365_day")


def test_heat_wave_index_spell_length(xc):
    """Spell-length index: days in spells of >= 5 days above 0 degC (TaiESM1, noleap)."""
    out, _ = run(xc, "xclim.atmos.heat_wave_index", {"collection": "taiesm", "z": PLEV, "thresh": "0 degC",
                                                     "window": 3, "datetime": "2000-01-01/2009-12-31"})
    want = direct("heat_wave_index", tasmax=ta("taiesm", slice("2000-01-01", "2009-12-31")), thresh="0 degC", window=3)
    assert_values(out["heat_wave_index"], want)
    assert float(want.max()) > 0


def test_tg90p_percentile_baseline(xc):
    """Percentile-based: days above the 1981-2000 day-of-year 90th percentile, 2001-2010 (IPSL)."""
    from xclim.core.calendar import percentile_doy

    out, _ = run(xc, "xclim.atmos.tg90p", {"collection": "ipsl", "z": PLEV, "baseline": "1981-01-01/2000-12-31",
                                           "datetime": "2001-01-01/2010-12-31"})
    base = ta("ipsl", slice("1981-01-01", "2000-12-31"))
    per = percentile_doy(base, window=5, per=90).sel(percentiles=90)
    want = direct("tg90p", tas=ta("ipsl", slice("2001-01-01", "2010-12-31")), tas_per=per)
    assert_values(out["tg90p"], want)
    assert float(want.max()) > float(want.min()) >= 0


def test_tg_mean_seasonal_indexer_julian(xc):
    """Seasonal index with an indexer: JJA mean temperature per year, IITM-ESM (julian calendar)."""
    out, _ = run(xc, "xclim.atmos.tg_mean", {"collection": "iitm", "z": PLEV, "indexer": {"season": "JJA"}})
    want = direct("tg_mean", tas=ta("iitm"), season="JJA")
    assert_values(out["tg_mean"], want)
    whole = direct("tg_mean", tas=ta("iitm"))
    assert not np.allclose(want.values, whole.values)  # the indexer changed the answer
    assert out.time.encoding.get("calendar") == "julian"


def test_tg_mean_month_indexer_proleptic(xc):
    out, _ = run(xc, "xclim.atmos.tg_mean", {"collection": "mri", "z": PLEV, "indexer": {"month": [12, 1, 2]},
                                             "freq": "YS"})
    assert_values(out["tg_mean"], direct("tg_mean", tas=ta("mri"), month=[12, 1, 2]))


def test_precipitation_indices_on_seeded_cmip6_like_pr(xc):
    """Precipitation: consecutive dry days and days >= 10 mm on a seeded daily series in kg m-2 s-1."""
    pr = source("", xc.tmp / "pr_day_synthetic.nc")["pr"]
    out, _ = run(xc, "xclim.atmos.cdd", {"collection": "pr-daily", "thresh": "1 mm/day"})
    assert_values(out["cdd"], direct("cdd", pr=pr, thresh="1 mm/day"))
    out, _ = run(xc, "xclim.atmos.wetdays", {"collection": "pr-daily", "thresh": "10 mm/day", "freq": "MS"})
    want = direct("wetdays", pr=pr, thresh="10 mm/day", freq="MS")
    assert_values(out["wetdays"], want)
    assert float(want.max()) > 0


def test_prcptot_cmip5_precipitation_alias_and_units(xc):
    """CMIP5 `pr` has standard_name `precipitation` in mm/day: matched by the alias, converted, and computed
    on its annual steps when the caller lifts the daily-input check (data_validation=log, missing=skip)."""
    out, _ = run(xc, "xclim.atmos.prcptot", {"collection": "cmip5-pr", "bbox": [-100, 40, -90, 50],
                                             "data_validation": "log", "missing": "skip", "datetime": "2006/2020"})
    pr = source("cmip5-pr")["pr"].sel(lon=slice(-100, -90), lat=slice(50, 40)).sel(time=slice("2006", "2020"))
    assert pr.size
    want = direct("prcptot", {"data_validation": "log", "check_missing": "skip"}, pr=pr)
    assert_values(out["prcptot"], want)


def test_hadcm3_360_day_annual(xc):
    """HadCM3 360_day: tx_max on its one-field-a-year series (data_validation=log), the calendar kept."""
    out, _ = run(xc, "xclim.atmos.tx_max", {"collection": "hadcm3", "data_validation": "log", "missing": "skip",
                                            "datetime": "1990-01-01/2010-12-30"})
    da = source("hadcm3")["air_temperature"].sel(time=slice("1990-01-01", "2010-12-30"))
    want = direct("tx_max", {"data_validation": "log", "check_missing": "skip"}, tasmax=da)
    assert_values(out["tx_max"], want)
    assert out.time.encoding.get("calendar") == "360_day"


def test_daily_360_day_calendar(xc):
    """Daily 360_day input: frost days, tg90p with a baseline of 360 days a year, and a date_bounds indexer ending
    on 02-30 (a date of that calendar only, refused before), each against xclim on the same data; 360_day kept."""
    from xclim.core.calendar import percentile_doy

    da = source("", xc.tmp / "ta_day_ipsl_360_day.nc")["ta"].sel(plev=[PLEV])
    period = {"datetime": "2001-01-01/2004-12-30"}
    out, _ = run(xc, "xclim.atmos.frost_days", {"collection": "ipsl-360", "z": PLEV, **period})
    want = direct("frost_days", tasmin=da.sel(time=slice("2001-01-01", "2004-12-30")))
    assert_values(out["frost_days"], want)
    assert out.time.encoding.get("calendar") == "360_day" and float(want.max()) > float(want.min())

    out, _ = run(xc, "xclim.atmos.tg90p", {"collection": "ipsl-360", "z": PLEV, "baseline": "1991-01-01/2000-12-30",
                                           **period})
    per = percentile_doy(da.sel(time=slice("1991-01-01", "2000-12-30")), window=5, per=90).sel(percentiles=90)
    assert per.dayofyear.size == 360
    want = direct("tg90p", tas=da.sel(time=slice("2001-01-01", "2004-12-30")), tas_per=per)
    assert_values(out["tg90p"], want)
    assert float(want.max()) > 0

    out, _ = run(xc, "xclim.atmos.tg_mean", {"collection": "ipsl-360", "z": PLEV, "indexer": {"date_bounds": ["02-01", "02-30"]},
                                             **period})
    want = direct("tg_mean", tas=da.sel(time=slice("2001-01-01", "2004-12-30")), date_bounds=("02-01", "02-30"))
    assert_values(out["tg_mean"], want)


def test_coads_monthly_with_alias_and_old_units(xc):
    """COADS AIRT (no standard_name, units 'DEG C') found through the alias list, its units normalised."""
    out, _ = run(xc, "xclim.atmos.tg_mean", {"collection": "coads", "data_validation": "log", "missing": "skip",
                                             "bbox": [-40, -20, 0, 20]})
    da = source("coads")["AIRT"].sel(COADSX=slice(-40, 0), COADSY=slice(-20, 20)).rename(TIME="time")
    da.attrs["units"] = "degC"
    want = direct("tg_mean", {"data_validation": "log", "check_missing": "skip"}, tas=da)
    assert_values(out["tg_mean"], want.rename(time="TIME"), rtol=1e-4)  # the collection's own axis name
    assert out["tg_mean"].attrs["units"] == "K"


def test_result_is_a_collection_served_by_edr(xc):
    """The job-{id} collection answers EDR position queries with the computed values."""
    out, job = run(xc, "xclim.atmos.frost_days", {"collection": "gfdl", "z": PLEV})
    lon, lat = float(out.lon[1]), float(out.lat[0])
    r = xc.get(f"/collections/job-{job}/position", params={"coords": f"POINT({lon} {lat})", "f": "CoverageJSON"})
    assert r.status_code == 200, r.text
    values = r.json()["ranges"]["frost_days"]["values"]
    np.testing.assert_allclose(values, out["frost_days"].sel(lon=lon, lat=lat).values.ravel())
    assert xc.get(f"/collections/job-{job}/coverage", params={"f": "netcdf"}).status_code == 200


def test_result_collection_over_zarr_and_maps_keeps_provenance(xc):
    """The job-{id} collection read by a Zarr client over HTTP: the same values and the CF/xclim provenance
    (history, xclim version, indicator, parameters); and drawn by Maps."""
    import json

    from ..conftest import serve_in_thread

    out, job = run(xc, "xclim.atmos.tropical_nights", {"collection": "taiesm", "z": PLEV, "thresh": "2 degC",
                                                       "freq": "MS", "datetime": "2003-01-01/2004-12-31"})
    with serve_in_thread(xc.app) as base:
        remote = xr.open_zarr(f"{base}/collections/job-{job}/zarr", zarr_format=2, consolidated=True).load()
    np.testing.assert_array_equal(remote["tropical_nights"].values, out["tropical_nights"].values)
    assert times(remote) == times(out) and remote.time.encoding.get("calendar") in ("noleap", "365_day")
    for key in ("xclim_version", "xclim_indicator", "xclim_realm", "xclim_parameters", "history"):
        assert remote.attrs[key] == out.attrs[key], key
    assert json.loads(remote.attrs["xclim_parameters"])["thresh"] == "2 degC"
    assert "xclim.atmos.tropical_nights on collection taiesm" in remote.attrs["history"]
    assert "TROPICAL_NIGHTS(" in remote["tropical_nights"].attrs["history"]  # xclim's own history line
    assert remote["tropical_nights"].attrs["units"] == "days"
    r = xc.get(f"/collections/job-{job}/map", params={"f": "png", "width": 64})
    assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_convert_realm_pet_with_latitude(xc):
    """xclim's `convert` realm too: Thornthwaite potential evapotranspiration, whose `lat` input comes from the grid's
    latitude. All its variables are optional, matched by name/alias only, so `tas` is named."""
    out, _ = run(xc, "xclim.convert.potential_evapotranspiration", {"collection": "taiesm", "z": PLEV, "method": "TW48",
                                                                   "variables": {"tas": "ta"},
                                                                   "datetime": "2001-01-01/2002-12-31"})
    da = ta("taiesm", slice("2001-01-01", "2002-12-31"))
    want = direct("potential_evapotranspiration", tas=da, lat=da.lat, method="TW48")
    assert_values(out["evspsblpot"], want)
    assert float(abs(want).max()) > 0


def test_polygon_nulls_cells_outside(xc):
    """A polygon around two of the CMIP5 cells: those computed as xclim computes them, the rest of the window null."""
    poly = {"type": "Polygon", "coordinates": [[[-100, 40], [-96, 40], [-96, 41.2], [-100, 40]]]}
    out, _ = run(xc, "xclim.atmos.prcptot", {"collection": "cmip5-pr", "polygon": poly, "data_validation": "log",
                                             "missing": "skip", "datetime": "2006/2010"})
    import shapely
    from shapely.geometry import shape

    pr = source("cmip5-pr")["pr"].sel(time=slice("2006", "2010"))
    want = direct("prcptot", {"data_validation": "log", "check_missing": "skip"}, pr=pr)
    got = out["prcptot"]
    inside = 0
    for lat in got.lat.values:
        for lon in got.lon.values:
            cell = got.sel(lat=lat, lon=lon).values
            if shapely.intersects_xy(shape(poly), lon, lat):
                inside += 1
                np.testing.assert_allclose(cell, want.sel(lat=lat, lon=lon).values, rtol=1e-5)
            else:
                assert np.isnan(cell).all()
    assert inside >= 1
    r = xc.post("/processes/xclim.atmos.prcptot/execution", json={"inputs": {
        "collection": "cmip5-pr", "polygon": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}}})
    assert r.status_code == 400 and r.json()["parameter"] == "polygon"
