"""Time coordinates at open: decode what xarray refuses, re-encode what clients cannot read, drop missing steps.

CF 1.11 section 4.4 time coordinates reach the server in forms xarray alone does not serve:

- `months since` / `years since` on a calendar cftime refuses (every calendar but `360_day`
  for months): decoded here as **calendar months/years**: the value `n + f` (n whole, 0 <= f < 1)
  is the reference date moved by n whole months (years), plus the fraction f of the length of
  the month (year) that starts there. On `360_day` this equals cftime's 30-day months, so
  month 0.5 after 1960-01-01 is 1960-01-16 there, and 1960-01-16T12:00 in the standard calendar.
  The time variable's `comment` says so (see `decoding_note`).
- months/years in the *encoding* (what xarray keeps to write the file back) are replaced by
  `days since <same reference>` with the calendar, so NetCDF and Zarr answers use units every
  CF reader decodes (xarray cannot even encode months).
- missing values in a time coordinate (NaT after decoding) are left out of the axis, and a
  time axis out of order is sorted (duplicates keep their first step), each with one log line
  naming the collection; nothing downstream ever sees "NaT".

Anything that still cannot be decoded is a ValueError naming the variable and its units; the
registry prefixes `collections.<id>:`.
"""

from __future__ import annotations

import logging
import re
import warnings
from typing import Callable

import cftime
import numpy as np
import xarray as xr

log = logging.getLogger("cubeserver")

_UNITS = re.compile(r"^\s*([A-Za-z_]+)\s+since\s+(.+?)\s*$")
MONTHS = {"month", "months", "mon", "mons"}
YEARS = {"year", "years", "yr", "yrs", "common_year", "common_years"}
NOTE = "decoded as calendar"
GREGORIAN = {"standard", "gregorian", "proleptic_gregorian"}


# ------------------------------------------------------------------ opening


class TimeDecodingError(ValueError):
    """A time variable whose units/calendar cannot be decoded; the message names it and its units."""


def open_decoded(open_fn: Callable[..., xr.Dataset], per_file: bool = False) -> xr.Dataset:
    """`open_fn(**kw)` with xarray's time decoding, falling back to `decode_times=False` + this module.

    The fallback is taken when xarray's decoding raises (e.g. "months since" on the standard
    calendar); if the file does not open even then, xarray's original error is raised.
    `per_file`: `open_fn` is `open_mfdataset`, whose files are decoded one by one (`preprocess`)
    before they are combined, as each may count from its own reference date.
    Raises ValueError naming the time variable when its units cannot be decoded at all.
    """
    try:
        return open_fn()
    except (ValueError, OverflowError) as first:
        error = first
    try:
        if per_file:
            return open_fn(decode_times=False, preprocess=decode_times)
        raw = open_fn(decode_times=False)
    except TimeDecodingError:
        raise
    except Exception:  # noqa: BLE001 - the first error is the one worth reporting
        raise error from None
    return decode_times(raw)


def decode_times(ds: xr.Dataset) -> xr.Dataset:
    """Decode the CF times of a Dataset opened with `decode_times=False`.

    Months/years since: calendar months/years (module docstring); every other unit by xarray.
    Bounds (`bounds`/`climatology` variables without units of their own) follow their coordinate.
    """
    ds = ds.copy()
    _bounds_follow_parents(ds)
    for name in list(ds.variables):
        var = ds.variables[name]
        unit, ref = _split_units(var.attrs.get("units"))
        if unit in MONTHS or unit in YEARS:
            ds[name] = _calendar_unit_variable(name, var, unit, ref)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return xr.decode_cf(ds, mask_and_scale=False, concat_characters=False, decode_coords=False)
    except (ValueError, OverflowError, TypeError):
        raise TimeDecodingError(_undecodable(ds)) from None


def _bounds_follow_parents(ds: xr.Dataset) -> None:
    for name in list(ds.variables):
        attrs = ds.variables[name].attrs
        for key in ("bounds", "climatology"):
            b = attrs.get(key)
            if isinstance(b, str) and b in ds.variables and "units" not in ds.variables[b].attrs and "units" in attrs:
                ds.variables[b].attrs["units"] = attrs["units"]
                if "calendar" in attrs:
                    ds.variables[b].attrs.setdefault("calendar", attrs["calendar"])


def _split_units(units) -> tuple[str | None, str | None]:
    m = _UNITS.match(str(units)) if isinstance(units, str) else None
    return (m.group(1).lower(), m.group(2)) if m else (None, None)


def _undecodable(ds: xr.Dataset) -> str:
    """The message for the first time variable xarray cannot decode on its own."""
    for name, var in ds.variables.items():
        if _split_units(var.attrs.get("units"))[0] is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sample = np.asarray(var.values).ravel()[:2]
                xr.decode_cf(xr.Dataset({"v": xr.Variable(("n",), sample, attrs=var.attrs)}))
        except (ValueError, OverflowError, TypeError):
            cal = var.attrs.get("calendar", "standard")
            return (f"time variable {name!r}: units {var.attrs['units']!r} with calendar {cal!r} cannot be decoded; "
                    "CF time units are '<unit> since <date>' with unit days, hours, minutes, seconds, months or years "
                    "and a date the calendar has: correct the units/calendar attributes in the file")
    return "the time variables cannot be decoded; check their units and calendar attributes"


# ------------------------------------------------------------------ calendar months / years


def _calendar_unit_variable(name: str, var: xr.Variable, unit: str, ref_text: str) -> xr.Variable:
    """One months/years-since variable decoded to datetimes, with days-since encoding and a note."""
    attrs = dict(var.attrs)
    units = attrs.pop("units")
    calendar = str(attrs.pop("calendar", "standard")).lower()
    try:
        ref = cftime.num2date(0, f"days since {ref_text}", calendar=calendar)
    except (ValueError, TypeError):
        raise TimeDecodingError(f"time variable {name!r}: reference date {ref_text!r} in units {units!r} is not a "
                                f"date of the {calendar} calendar; correct the units attribute in the file") from None
    raw = np.asarray(var.values, dtype="float64")
    fill = [attrs.pop(k, None) for k in ("_FillValue", "missing_value")] + [var.encoding.get("_FillValue"),
                                                                            var.encoding.get("missing_value")]
    missing = ~np.isfinite(raw)
    for f in fill:
        if f is not None:
            missing |= np.isclose(raw, np.float64(np.asarray(f).ravel()[0]), equal_nan=False)
    months = 12 if unit in YEARS else 1
    dates = [None if miss else shift(ref, float(v), months) for v, miss in zip(raw.ravel(), missing.ravel())]
    values = _as_values(dates, calendar).reshape(raw.shape)
    kind = "years" if unit in YEARS else "months"
    note = (f"time {NOTE} {kind}: the value n + f in '{units}' is {ref_text} moved by n whole {kind}, plus the "
            f"fraction f of the length of the {kind[:-1]} that starts there ({calendar} calendar)")
    attrs["comment"] = f"{attrs['comment']}\n{note}" if attrs.get("comment") else note
    enc = {k: v for k, v in var.encoding.items() if k not in ("units", "calendar", "dtype", "_FillValue", "missing_value")}
    enc.update(units=f"days since {ref.strftime('%Y-%m-%d %H:%M:%S')}", calendar=calendar, dtype=np.dtype("float64"))
    out = xr.Variable(var.dims, values, attrs=attrs)
    out.encoding = enc
    return out


def shift(ref: cftime.datetime, value: float, months: int) -> cftime.datetime:
    """`ref` moved by `value` calendar months (months=1) or years (months=12) in ref's calendar.

    Whole units move the year/month (the day is kept, or the month's last day if shorter);
    the fraction is that share of the length of the unit starting there.
    """
    whole = int(np.floor(value))
    frac = value - whole
    base = _add_months(ref, whole * months)
    if not frac:
        return base
    following = _add_months(ref, (whole + 1) * months)
    return base + (following - base) * frac


def _add_months(ref: cftime.datetime, n: int) -> cftime.datetime:
    total = ref.year * 12 + (ref.month - 1) + n
    year, month = divmod(total, 12)
    month += 1
    first = cftime.datetime(year, month, 1, calendar=ref.calendar, has_year_zero=ref.has_year_zero)
    day = min(ref.day, first.daysinmonth)
    return cftime.datetime(year, month, day, ref.hour, ref.minute, ref.second, ref.microsecond,
                           calendar=ref.calendar, has_year_zero=ref.has_year_zero)


def _as_values(dates: list, calendar: str) -> np.ndarray:
    """Gregorian dates within numpy's range as datetime64[ns] (as xarray decodes them), else cftime objects."""
    valid = [d for d in dates if d is not None]
    if calendar in GREGORIAN and all(_numpy_ok(d, calendar) for d in valid):
        return np.array([np.datetime64(d.isoformat(), "ns") if d is not None else np.datetime64("NaT", "ns")
                         for d in dates], dtype="datetime64[ns]")
    return np.array(dates, dtype=object)


def _numpy_ok(d, calendar: str) -> bool:
    if not 1678 < d.year < 2262:
        return False
    return calendar == "proleptic_gregorian" or (d.year, d.month, d.day) >= (1582, 10, 15)


# ------------------------------------------------------------------ at registration


def is_time_like(values: np.ndarray) -> bool:
    """datetime64, or objects that are cftime datetimes (missing ones included)."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.datetime64):
        return True
    if values.dtype != object:
        return False
    return any(isinstance(v, cftime.datetime) for v in values.ravel()[:1000])


def _missing(values: np.ndarray) -> np.ndarray:
    if np.issubdtype(values.dtype, np.datetime64):
        return np.isnat(values)
    return np.array([not isinstance(v, cftime.datetime) for v in values], dtype=bool)


def clean_time_axes(ds: xr.Dataset, cid: str) -> xr.Dataset:
    """Every 1-D time dimension coordinate: missing steps dropped, sorted, units re-encoded; one log line each.

    Bounds variables of dimension coordinates become coordinates (see `bounds_as_coords`).
    Raises ValueError when a time coordinate has no valid value at all.
    """
    ds = bounds_as_coords(ds)
    for dim in [d for d in ds.dims if d in ds.coords and ds[d].ndim == 1]:
        values = np.asarray(ds[dim].values)
        if values.size == 0 or not is_time_like(values):
            continue
        missing = _missing(values)
        if missing.all():
            raise ValueError(f"time coordinate {dim!r} has no valid value (all {values.size} are missing)")
        keep = np.flatnonzero(~missing)
        if missing.any():
            shown = ", ".join(map(str, np.flatnonzero(missing)[:10]))
            log.warning("collections.%s: time coordinate %r has %d missing value(s) (position %s); those steps "
                        "are left out", cid, dim, int(missing.sum()), shown)
        keep = _ordered(keep, values, dim, cid)
        if keep.size != values.size or np.any(np.diff(keep) != 1):
            ds = ds.isel({dim: keep})
        enc = ds[dim].encoding
        if np.issubdtype(ds[dim].dtype, np.datetime64) and not (enc.get("calendar") or ds[dim].attrs.get("calendar")):
            enc["calendar"] = "standard"  # CF's default, as the metadata says (xarray would write proleptic_gregorian)
        if missing.any():
            enc.pop("missing_value", None)
            enc["_FillValue"] = None  # CF coordinates carry no fill value
    reencode(ds)
    return ds


def bounds_as_coords(ds: xr.Dataset) -> xr.Dataset:
    """`bounds`/`climatology` variables (CF 7.1, 7.4) of dimension coordinates as coordinates, not data.

    They describe an axis (time_bnds, lat_bnds), so their `bnds` dimension is no extra axis of the
    data, and the selection can keep the time bounds with the time axis.
    """
    names = []
    for dim in ds.dims:
        if dim not in ds.coords:
            continue
        for key in ("bounds", "climatology"):
            n = ds[dim].attrs.get(key) or ds[dim].encoding.get(key)
            if isinstance(n, str) and n in ds.data_vars and dim in ds[n].dims:
                names.append(n)
    return ds.set_coords(names) if names else ds


def _ordered(keep: np.ndarray, values: np.ndarray, dim: str, cid: str) -> np.ndarray:
    """`keep` reordered so the times ascend, duplicates after their first step left out."""
    from ..query.cftimes import axis_micros

    micros = axis_micros(values[keep], "standard")
    if micros.size < 2 or np.all(np.diff(micros) > 0):
        return keep
    order = np.argsort(micros, kind="stable")
    sorted_us = micros[order]
    first = np.concatenate([[True], np.diff(sorted_us) > 0])
    dupes = int((~first).sum())
    what = []
    if not np.all(np.diff(micros) >= 0):
        what.append("not in ascending order (sorted)")
    if dupes:
        what.append(f"{dupes} repeated value(s) (first step kept)")
    log.warning("collections.%s: time coordinate %r is %s", cid, dim, " and has ".join(what) if what else "reordered")
    return keep[order[first]]


def reencode(ds: xr.Dataset) -> None:
    """Months/years in a time variable's encoding become `days since` the same reference (in place)."""
    for name in ds.variables:
        var = ds.variables[name]
        unit, ref = _split_units(var.encoding.get("units"))
        if (unit in MONTHS or unit in YEARS) and is_time_like(np.asarray(var[tuple(slice(0, 1) for _ in var.dims)].values)):
            cal = var.encoding.get("calendar", "standard")
            try:
                start = cftime.num2date(0, f"days since {ref}", calendar=cal)
                var.encoding["units"] = f"days since {start.strftime('%Y-%m-%d %H:%M:%S')}"
            except (ValueError, TypeError):
                var.encoding.pop("units", None)  # xarray picks units when writing
            var.encoding["dtype"] = np.dtype("float64")


def decoding_note(var: xr.DataArray | xr.Variable | None) -> str | None:
    """The sentence this module added to a time variable's `comment`, if it decoded calendar months/years."""
    comment = str(var.attrs.get("comment", "")) if var is not None else ""
    for line in comment.splitlines():
        if line.startswith(f"time {NOTE}"):
            return line
    return None

