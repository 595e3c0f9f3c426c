"""xclim.ensembles as a process, over the five-calendar CMIP6 members and over job-{id} indicator results.

Ground truth: xclim.ensembles called directly on the members read with xarray, put on the first
member's grid by nearest neighbour and on one calendar exactly as the process documents.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from ..conftest import client_for
from .xclim_support import PLEV, collections, direct, run, source

pytest.importorskip("xclim")
MEMBERS = ["gfdl", "iitm", "mri", "taiesm"]  # noleap, julian, proleptic_gregorian, noleap


def realization_file(path) -> xr.Dataset:
    """Two real CMIP6 members (GFDL-CM4 and TaiESM1, both noleap, 2001-2002) stacked on a `realization` axis,
    TaiESM1 put on GFDL's grid by nearest cell centre, as a pre-built ensemble file holds them."""
    keep = ("time", "plev", "lat", "lon")
    g = source("gfdl")[["ta"]].sel(time=slice("2001-01-01", "2002-12-31"))
    t = source("taiesm")[["ta"]].sel(time=slice("2001-01-01", "2002-12-31"))
    t = t.sel(lat=g.lat.values, lon=g.lon.values, method="nearest").assign_coords(lat=g.lat, lon=g.lon)
    g, t = (m.drop_vars([v for v in m.coords if v not in keep]) for m in (g, t))
    ens = xr.concat([g, t], dim=xr.DataArray(["GFDL-CM4", "TaiESM1"], dims="realization", name="realization"))
    ens.to_netcdf(path)
    return ens


@pytest.fixture(scope="module")
def xc(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xclim-ens")
    cols = collections(tmp)
    realization_file(tmp / "ens.nc")
    cols["ens"] = {"path": str(tmp / "ens.nc")}
    with client_for(cols, tmp, dask={"workers": 1}) as c:
        c.tmp = tmp
        yield c


def on_first_grid(members: list[xr.Dataset]) -> list[xr.Dataset]:
    first = members[0]
    return [m.sel(lat=first.lat.values, lon=first.lon.values, method="nearest").assign_coords(lat=first.lat.values,
                                                                                             lon=first.lon.values)
            for m in members]


def test_ensemble_mean_of_tg_mean_job_results(xc):
    """tg_mean on four models (four calendars), then the ensemble mean/std/min/max of the job-{id} results."""
    from xclim.ensembles import create_ensemble, ensemble_mean_std_max_min

    jobs, truth = [], []
    for m in MEMBERS:
        _, job = run(xc, "xclim.atmos.tg_mean", {"collection": m, "z": PLEV, "datetime": "2000-01-01/2004-12-31"})
        jobs.append(f"job-{job}")
        da = source(m)["ta"].sel(plev=[PLEV]).sel(time=slice("2000-01-01", "2004-12-31"))
        truth.append(direct("tg_mean", tas=da).to_dataset())
    out, _ = run(xc, "xclim.ensembles", {"collections": jobs, "variable": "tg_mean", "align": "nearest",
                                         "calendar": "noleap"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ens = create_ensemble(on_first_grid(truth), calendar="noleap", realizations=jobs, cal_kwargs={"align_on": "date"})
        want = ensemble_mean_std_max_min(ens).load()
    for name in ("tg_mean_mean", "tg_mean_stdev", "tg_mean_max", "tg_mean_min"):
        np.testing.assert_allclose(out[name].values, want[name].transpose(*out[name].dims).values, rtol=1e-5)
    assert float(want["tg_mean_stdev"].min()) > 0  # members really differ
    assert out.attrs["ensemble_members"] == ", ".join(jobs)


def test_ensemble_percentiles_of_daily_members(xc):
    """Member percentiles of daily ta (2001-2002), members on the noleap calendar."""
    from xclim.ensembles import create_ensemble, ensemble_percentiles

    out, _ = run(xc, "xclim.ensembles", {"collections": MEMBERS, "variable": "ta", "statistic": "percentiles",
                                         "percentiles": [10, 50, 90], "align": "nearest", "calendar": "noleap",
                                         "z": PLEV, "datetime": "2001-01-01/2002-12-31"})
    members = [source(m)[["ta"]].sel(plev=[PLEV]).sel(time=slice("2001-01-01", "2002-12-31")) for m in MEMBERS]
    members = [m.drop_vars([v for v in m.coords if v not in m.dims]) for m in members]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ens = create_ensemble(on_first_grid(members), calendar="noleap", realizations=MEMBERS,
                              cal_kwargs={"align_on": "date"})
        want = ensemble_percentiles(ens, values=[10, 50, 90], split=True).load()
    for p in (10, 50, 90):
        name = f"ta_p{p}"
        np.testing.assert_allclose(out[name].values, want[name].transpose(*out[name].dims).values, rtol=1e-5)
    assert out["time"].size == 730


def test_ensemble_robustness(xc):
    """Robustness fractions of the change 2000-2001 -> 2003-2004 across the members."""
    from xclim.ensembles import create_ensemble, robustness_fractions

    out, _ = run(xc, "xclim.ensembles", {"collections": MEMBERS, "variable": "ta", "statistic": "robustness",
                                         "reference": "2000-01-01/2001-12-31", "datetime": "2003-01-01/2004-12-31",
                                         "align": "nearest", "calendar": "noleap", "z": PLEV})

    def ens(period):
        ms = [source(m)[["ta"]].sel(plev=[PLEV]).sel(time=period) for m in MEMBERS]
        ms = [m.drop_vars([v for v in m.coords if v not in m.dims]) for m in ms]
        return create_ensemble(on_first_grid(ms), calendar="noleap", realizations=MEMBERS, cal_kwargs={"align_on": "date"})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = robustness_fractions(ens(slice("2003-01-01", "2004-12-31")).ta, ens(slice("2000-01-01", "2001-12-31")).ta).load()
    for name in ("changed", "positive", "agree"):
        np.testing.assert_allclose(out[name].values, want[name].transpose(*out[name].dims).values)


def test_ensemble_errors_name_the_input(xc):
    r = xc.post("/processes/xclim.ensembles/execution", json={"inputs": {"collections": ["gfdl", "mri"], "variable": "ta"}})
    assert r.status_code == 400 and r.json()["parameter"] == "collections" and "align=nearest" in r.json()["detail"]
    r = xc.post("/processes/xclim.ensembles/execution", json={"inputs": {"collections": ["gfdl"], "variable": "ta"}})
    assert r.status_code == 400 and r.json()["parameter"] == "collections" and "realization" in r.json()["detail"]
    r = xc.post("/processes/xclim.ensembles/execution", json={"inputs": {"collections": ["gfdl", "coads"], "variable": "ta"}})
    assert r.status_code == 400 and r.json()["parameter"] == "variable"
    r = xc.post("/processes/xclim.ensembles/execution", json={"inputs": {"collections": MEMBERS, "variable": "ta",
                                                                          "statistic": "robustness", "align": "nearest"}})
    assert r.status_code == 400 and r.json()["parameter"] == "reference"


def test_ensemble_over_a_realization_axis(xc):
    """One collection with a `realization` axis: its members' percentiles, as xclim computes them on that file."""
    from xclim.ensembles import ensemble_percentiles

    out, _ = run(xc, "xclim.ensembles", {"collections": ["ens"], "variable": "ta", "statistic": "percentiles",
                                         "percentiles": [25, 75], "z": PLEV})
    ens = source("", xc.tmp / "ens.nc")[["ta"]].sel(plev=[PLEV])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = ensemble_percentiles(ens, values=[25, 75], split=True).load()
    for name in ("ta_p25", "ta_p75"):
        np.testing.assert_allclose(out[name].values, want[name].transpose(*out[name].dims).values, rtol=1e-5)
    assert float(abs(want["ta_p75"] - want["ta_p25"]).max()) > 0  # the two members differ
    assert out["time"].size == 730


def test_members_of_different_sampling_or_listed_twice_are_400(xc):
    """Monthly and annual indicator results as members were joined on the union of their times and read mostly
    null (a 200); a member listed twice counted twice. Both are 400s naming `collections`."""
    _, monthly = run(xc, "xclim.atmos.tg_mean", {"collection": "gfdl", "z": PLEV, "freq": "MS"})
    _, annual = run(xc, "xclim.atmos.tg_mean", {"collection": "taiesm", "z": PLEV, "datetime": "2000-01-01/2004-12-31"})
    r = xc.post("/processes/xclim.ensembles/execution", json={"inputs": {
        "collections": [f"job-{monthly}", f"job-{annual}"], "variable": "tg_mean", "align": "nearest"}})
    assert r.status_code == 400 and r.json()["parameter"] == "collections", r.text
    assert "different time steps" in r.json()["detail"] and f"job-{annual} every 365" in r.json()["detail"]
    r = xc.post("/processes/xclim.ensembles/execution", json={"inputs": {"collections": ["gfdl", "gfdl"], "variable": "ta",
                                                                          "z": PLEV}})
    assert r.status_code == 400 and r.json()["parameter"] == "collections" and "more than once" in r.json()["detail"]


def test_ensemble_with_a_360_day_member(xc):
    """A daily 360_day member (IPSL on that calendar) with a noleap one (GFDL), on noleap: the mean/std/min/max as
    xclim computes them; days the 360_day calendar lacks (the 31sts) hold the GFDL member only."""
    from xclim.ensembles import create_ensemble, ensemble_mean_std_max_min

    out, _ = run(xc, "xclim.ensembles", {"collections": ["gfdl", "ipsl-360"], "variable": "ta", "align": "nearest",
                                         "calendar": "noleap", "z": PLEV, "datetime": "2001-01-01/2001-12-30"})
    members = [source("gfdl")[["ta"]], source("", xc.tmp / "ta_day_ipsl_360_day.nc")[["ta"]]]
    members = [m.sel(plev=[PLEV]).sel(time=slice("2001-01-01", "2001-12-30")) for m in members]
    members = [m.drop_vars([v for v in m.coords if v not in m.dims]) for m in members]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ens = create_ensemble(on_first_grid(members), calendar="noleap", realizations=["gfdl", "ipsl-360"],
                              cal_kwargs={"align_on": "date"})
        want = ensemble_mean_std_max_min(ens).load()
    for name in ("ta_mean", "ta_stdev", "ta_max", "ta_min"):
        np.testing.assert_allclose(out[name].values, want[name].transpose(*out[name].dims).values, rtol=1e-5)
    assert out.time.encoding.get("calendar") in ("noleap", "365_day")
    alone = (out["ta_stdev"] == 0).all([d for d in out["ta_stdev"].dims if d != "time"])
    assert {str(t)[5:10] for t in out.time.values[alone.values]} >= {"01-31", "03-31", "05-31"}
