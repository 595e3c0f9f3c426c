"""Request checks of the xclim processes that the JSON Schemas cannot express; each failure is a 400 naming the input.

They run before xclim is called (dates that do not exist, non-finite thresholds, a baseline
too short for day-of-year percentiles, too few time steps to infer the sampling), or turn
what xclim raises into the input at fault (`blame`).
"""

from __future__ import annotations

import calendar
import math
import re

import xarray as xr

from ...errors import BadRequest

# xclim needs three time steps to infer the input's sampling (xarray.infer_freq)
MIN_STEPS = 3


def month_day(value, name: str, what: str = "", cal: str = "standard") -> None:
    """`value` is a month-day MM-DD of calendar `cal` (a schema pattern lets 13-45 through, and 02-30 exists in
    360_day only); 400 naming `name`."""
    month, _, day = str(value).partition("-")
    ok = len(str(value)) == 5 and month.isdigit() and day.isdigit() and 1 <= int(month) <= 12
    last = 30 if cal == "360_day" else calendar.monthrange(2000, int(month))[1] if ok else 0
    if not (ok and 1 <= int(day) <= last):
        raise BadRequest(f"{name}: {what}{value!r} is not a month-day MM-DD of the {cal} calendar (e.g. 04-01)",
                         parameter=name)


def full_date(value, name: str) -> None:
    """`value` is a date YYYY-MM-DD (xclim's DATE parameters); 400 naming `name`."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", str(value))
    if not m or not (1 <= int(m[2]) <= 12 and 1 <= int(m[3]) <= 31):
        raise BadRequest(f"{name}: {value!r} is not a date YYYY-MM-DD (e.g. 2001-04-01)", parameter=name)


def dates_within(ds: xr.Dataset, t: str, values: dict, names: list[str]) -> None:
    """xclim's DATE parameters (SPI's calibration period cal_start/cal_end) lie in the selected period and in
    order (outside it xclim says "'index' must contain datetime-like objects"); 400 naming the parameter."""
    given = [n for n in names if values.get(n)]
    for n in given:
        full_date(values[n], n)
    if not given or ds.sizes.get(t, 0) == 0:
        return
    first, last = str(ds[t].values[0])[:10], str(ds[t].values[-1])[:10]
    for n in given:
        if not first <= str(values[n])[:10] <= last:
            raise BadRequest(f"{n}: {values[n]} is outside the data selected ({first} to {last})", parameter=n)
    if {"cal_start", "cal_end"} <= set(given) and str(values["cal_start"]) >= str(values["cal_end"]):
        raise BadRequest(f"cal_end: {values['cal_end']} is not after cal_start {values['cal_start']}", parameter="cal_end")


def finite_quantity(value: str, name: str) -> None:
    """A threshold's magnitude is a finite number (pint reads '1e400 degC' as inf and 'nan degC' as NaN, with
    which xclim silently counts nothing); 400 naming `name`."""
    from xclim.core.units import str2pint

    if not math.isfinite(float(str2pint(str(value)).magnitude)):
        raise BadRequest(f"{name}: {value!r} is not a finite quantity", parameter=name)


def enough_steps(ds: xr.Dataset, t: str, values: dict, ind) -> None:
    """With data_validation=raise, fewer than MIN_STEPS time steps is a 400 naming `datetime` (xclim would say
    'Inputs have different frequencies. Got : []', blaming nobody)."""
    n = ds.sizes.get(t, 0)
    if ind.src_freq and values.get("data_validation") == "raise" and n < MIN_STEPS:
        raise BadRequest(f"datetime: {values.get('datetime')} selects {n} time step(s); xclim needs at least "
                         f"{MIN_STEPS} to tell the input's sampling", parameter="datetime")


def baseline_covers_year(base: xr.Dataset, t: str, value: str) -> None:
    """Day-of-year percentiles need every day of the year in the baseline; a shorter baseline gives thresholds
    for some days only and a silently wrong index. 400 naming `baseline`."""
    days = base[t].dt.dayofyear
    cal = getattr(base[t].dt, "calendar", "standard")
    need = 360 if cal == "360_day" else 365
    have = int(xr.DataArray(days.values).to_series().nunique())
    if have < need:
        raise BadRequest(f"baseline: {value} covers {have} days of the year; day-of-year percentiles need at least "
                         f"one whole year ({need} days), typically 30 years such as 1981/2010", parameter="baseline")


def refuse_shared(sources: dict, mapping: dict) -> None:
    """Two different xclim inputs silently read from one variable (tasmin and tasmax from `ta`) is a 400."""
    seen = {}
    for name, src in sources.items():
        if src in seen and name not in mapping and seen[src] not in mapping:
            raise BadRequest(f"variables: both {seen[src]} and {name} would read {src!r}; name them explicitly, e.g. "
                             f"{{\"{seen[src]}\": \"...\", \"{name}\": \"...\"}}", parameter="variables")
        seen[src] = name


def blame(error: Exception, values: dict) -> str:
    """The input at fault for an error xclim raised: the missing-data rule when it came from xclim.core.missing,
    else the first input named as a whole word in the message, else `collection`."""
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__") == "xclim.core.missing":
            return "missing_options" if values.get("missing_options") else "missing"
        tb = tb.tb_next
    message = str(error)
    for name in values:
        if name not in ("collection", "variables") and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", message):
            return name
    return "collection"


def short(error: Exception) -> str:
    """The first line of an error message, at most 300 characters."""
    return str(error).split("\n")[0][:300]
