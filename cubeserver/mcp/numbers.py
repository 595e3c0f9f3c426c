"""Numbers for agents: nodata as null, no float32 noise, block downsampling and a series summary.

`values(da)` turns an answer's values into JSON numbers (integer nodata -> null, float32 written
with the digits float32 holds); `block_means` shortens a series to a budget by averaging runs of
consecutive steps (NaN-aware); `summary` describes the full series: count, valid, min, max, mean
and the least-squares trend per calendar year (the CF calendar's year: 360 days on 360_day,
365 on noleap, 366 on all_leap, 365.2425 otherwise).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import xarray as xr

YEAR_DAYS = {"360_day": 360.0, "noleap": 365.0, "365_day": 365.0, "all_leap": 366.0, "366_day": 366.0}


def masked(da: xr.DataArray) -> xr.DataArray:
    """Integer data with a nodata value (`_FillValue`) as floats with NaN there; other data unchanged."""
    if da.dtype.kind not in "iu":
        return da
    nodata = da.attrs.get("_FillValue", da.encoding.get("_FillValue", da.encoding.get("missing_value")))
    out = da.astype("float64")
    if nodata is not None and np.isfinite(nodata):
        out = out.where(da != nodata)
    return out


def digits(dtype) -> int:
    """Significant digits worth writing for values of `dtype` (float32 holds about 7)."""
    dt = np.dtype(dtype)
    return 7 if dt.kind == "f" and dt.itemsize <= 4 or dt.kind in "iu" and dt.itemsize <= 2 else 15


def plain_list(a, ndigits: int = 15) -> list:
    """1-D numbers -> JSON numbers with `ndigits` significant digits; NaN/inf -> None."""
    out = []
    for v in np.asarray(a, dtype="float64").ravel():
        if not math.isfinite(v):
            out.append(None)
        elif v == int(v) and abs(v) < 2**53:
            out.append(int(v))
        else:
            out.append(float(f"{v:.{ndigits}g}"))
    return out


def values(da: xr.DataArray) -> tuple[np.ndarray, int]:
    """(float64 values with NaN for nodata, digits to write them with) of a computed DataArray."""
    m = masked(da)
    return np.asarray(m.values, dtype="float64"), digits(da.dtype)


def block_size(n: int, budget: int) -> int:
    """Steps per block so that `n` steps fit in `budget` values (1: no downsampling)."""
    budget = max(1, budget)
    return 1 if n <= budget else math.ceil(n / budget)


def block_means(a: np.ndarray, k: int) -> np.ndarray:
    """Mean of each run of `k` consecutive values (the last run may be shorter); all-NaN runs -> NaN."""
    if k <= 1:
        return a
    n = len(a)
    padded = np.full(math.ceil(n / k) * k, np.nan)
    padded[:n] = a
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(padded.reshape(-1, k), axis=1)


def days_since_first(times) -> np.ndarray:
    """Days from the first time, for datetime64 or cftime values (any CF calendar)."""
    t = np.asarray(times)
    if t.dtype.kind == "M":
        return (t - t[0]) / np.timedelta64(1, "D")
    return np.array([(v - t[0]).total_seconds() / 86400.0 for v in t], dtype="float64")


def trend_per_year(times, a: np.ndarray, calendar: str | None) -> float | None:
    """Least-squares slope of `a` against time, in units per calendar year; None with fewer than 3 values."""
    ok = np.isfinite(a)
    if ok.sum() < 3:
        return None
    d = days_since_first(times)[ok]
    if np.ptp(d) == 0:
        return None
    slope = np.polyfit(d, a[ok], 1)[0]
    return float(slope * YEAR_DAYS.get(calendar or "", 365.2425))


def summary(times, iso: list[str], a: np.ndarray, calendar: str | None, ndigits: int) -> dict:
    """count, valid, min, max, mean, trend_per_year, first_time, last_time of the full series."""
    ok = np.isfinite(a)
    out = {"count": int(a.size), "valid": int(ok.sum()), "first_time": iso[0] if iso else None,
           "last_time": iso[-1] if iso else None}
    if ok.any():
        mn, mx, mean = plain_list([a[ok].min(), a[ok].max(), a[ok].mean()], ndigits)
        out.update(min=mn, max=mx, mean=mean)
    trend = trend_per_year(times, a, calendar) if times is not None else None
    if trend is not None:
        out["trend_per_year"] = plain_list([trend], ndigits)[0]
    return out
