"""Shared pieces of the xclim process tests: the collections, a seeded daily pr file, the ground truth.

The ground truth is always xclim itself called directly on the source file read with xarray
(cftime calendars), with the same selection the request makes: never our own results.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from ..conftest import DATASETS

CMIP6 = DATASETS / "cmip6_day_ta"
FILES = {
    "ipsl": CMIP6 / "ta_day_IPSL-CM6A-LR_historical_r1i1p1f1_gr_19810101-20101231.nc",     # standard
    "taiesm": CMIP6 / "ta_day_TaiESM1_historical_r1i1p1f1_gn_20000101-20091231.nc",        # noleap
    "iitm": CMIP6 / "ta_day_IITM-ESM_historical_r1i1p1f1_gn_20000101-20041231.nc",         # julian
    "mri": CMIP6 / "ta_day_MRI-ESM2-0_historical_r1i1p1f1_gn_20000101-20041231.nc",        # proleptic_gregorian
    "gfdl": CMIP6 / "ta_day_GFDL-CM4_historical_r1i1p1f1_gr2_20000101-20041231.nc",        # noleap
    "coads": DATASETS / "coads_sst.nc",
    "cmip5-pr": DATASETS / "cmip5_rcp85_pcp_pctl25.nc",
    "hadcm3": DATASETS / "grids" / "A1B_north_america.nc",
}
PLEV = 85000  # 1000 hPa holds undeclared netCDF default fills (9.97e36) where it is below ground


def daily_pr(path: Path, seed: int = 18) -> Path:
    """A seeded daily precipitation file shaped like CMIP6 `pr` (kg m-2 s-1, noleap, 3 x 2 cells, 2001-2004)."""
    rng = np.random.default_rng(seed)
    time = xr.date_range("2001-01-01", periods=4 * 365, freq="D", calendar="noleap", use_cftime=True)
    wet = rng.random((time.size, 3, 2)) < 0.45
    mm_day = np.where(wet, rng.gamma(0.8, 7.0, (time.size, 3, 2)), 0.0)
    pr = xr.DataArray((mm_day / 86400.0).astype("float32"), dims=("time", "lat", "lon"),
                      coords={"time": time, "lat": [44.0, 45.0, 46.0], "lon": [5.0, 6.0]}, name="pr",
                      attrs={"standard_name": "precipitation_flux", "long_name": "Precipitation", "units": "kg m-2 s-1",
                             "cell_methods": "area: time: mean", "comment": "seeded synthetic series for tests"})
    ds = pr.to_dataset()
    ds.lat.attrs = {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"}
    ds.lon.attrs = {"standard_name": "longitude", "units": "degrees_east", "axis": "X"}
    ds.time.encoding = {"units": "days since 1850-01-01", "calendar": "noleap"}
    ds.to_netcdf(path)
    return path


def daily_360(path: Path) -> Path:
    """The IPSL daily series on the 360_day calendar (xarray's convert_calendar, align_on=year: five days dropped
    from each year, spread over the year), as a daily 360_day file; no daily 360_day file is bundled."""
    ds = source("ipsl")[["ta"]].sel(time=slice("1991-01-01", "2004-12-31")).convert_calendar("360_day", align_on="year")
    ds.time.encoding = {"units": "days since 1850-01-01", "calendar": "360_day"}
    ds.to_netcdf(path)
    return path


def collections(tmp: Path) -> dict:
    out = {k: {"path": str(v)} for k, v in FILES.items()}
    out["pr-daily"] = {"path": str(daily_pr(tmp / "pr_day_synthetic.nc"))}
    out["ipsl-360"] = {"path": str(daily_360(tmp / "ta_day_ipsl_360_day.nc"))}
    return out


def source(name: str, path: Path | None = None) -> xr.Dataset:
    return xr.open_dataset(path or FILES[name], decode_times=xr.coders.CFDatetimeCoder(use_cftime=True))


def direct(indicator: str, options: dict | None = None, **kwargs):
    """Call the xclim indicator registered as `indicator` directly, as a user would, and load the result."""
    import xclim
    from xclim.core.indicator import registry

    ind = (registry.get(indicator) or registry[indicator.upper()]).get_instance()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with xclim.set_options(cf_compliance="log", **(options or {})):
            out = ind(**kwargs)
    return out.load() if not isinstance(out, tuple) else tuple(o.load() for o in out)


def times(da) -> list[str]:
    return [str(t)[:10] for t in da["time"].values]


def job_id(response) -> str:
    return response.headers["link"].split("/jobs/")[1].split(">")[0]


def netcdf_of(client, job: str) -> xr.Dataset:
    from .conftest import netcdf

    r = client.get(f"/jobs/{job}/results/result")
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-netcdf"
    return netcdf(r.content)


def run(client, pid: str, inputs: dict) -> tuple[xr.Dataset, str]:
    r = client.post(f"/processes/{pid}/execution", json={"inputs": inputs, "response": "document"})
    assert r.status_code == 200, r.text
    job = job_id(r)
    return netcdf_of(client, job), job


def same_times(a, b) -> bool:
    return times(a) == times(b)


def assert_values(got: xr.DataArray, want: xr.DataArray, rtol: float = 1e-5) -> None:
    """Same values on the same axes; a length-1 level axis the server keeps (height, plev) is squeezed."""
    got = got.squeeze([d for d in got.dims if got.sizes[d] == 1 and d not in want.dims], drop=True)
    assert got.shape == want.shape, (got.dims, got.shape, want.dims, want.shape)
    np.testing.assert_allclose(np.asarray(got.values, "float64"), np.asarray(want.transpose(*got.dims).values, "float64"),
                               rtol=rtol, atol=1e-6, equal_nan=True)


