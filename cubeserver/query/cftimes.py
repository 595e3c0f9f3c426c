"""Calendar-free date-time fields -> instants of one CF calendar (CF 1.11 section 4.4.2), via cftime.

Every CF calendar is handled the same way: `standard`/`gregorian`, `proleptic_gregorian`,
`julian`, `noleap`/`365_day`, `all_leap`/`366_day` and `360_day`. A date that a calendar
has (Feb 30 on `360_day`) is an ordinary date there. A date it lacks (Dec 31 on `360_day`,
Feb 29 on `noleap`, 1582-10-10 on `standard`) is:

- as an instant, a 400 that says why;
- as an interval start, clamped forward to the next day that exists (00:00 of it);
- as an interval end, clamped back: the interval ends before the next day that exists.

Instants are compared as integer microseconds since 1970-01-01T00:00 of the same calendar,
so numpy (datetime64) and cftime axes are one code path and equality is exact.
"""

from __future__ import annotations

import datetime as _dt
import warnings

import cftime
import numpy as np

from ..errors import BadRequest
from .times import CalendarTime

ONE_US = _dt.timedelta(microseconds=1)
NO_YEAR_ZERO = {"standard", "gregorian", "julian"}
ALIASES = {"gregorian": "standard", "365_day": "noleap", "366_day": "all_leap"}
RULES = {
    "360_day": "30-day months",
    "noleap": "365-day years, no leap days",
    "all_leap": "366-day years, every February has 29 days",
    "julian": "a leap year every 4th year, no year 0",
    "proleptic_gregorian": "Gregorian leap years",
    "standard": "Gregorian leap years, Julian before 1582-10-15; 1582-10-05 to 1582-10-14 and year 0 do not exist",
}


def canonical(calendar: str | None) -> str:
    """The CF calendar name in lower case with aliases resolved (`365_day` -> `noleap`); default `standard`."""
    name = str(calendar or "standard").strip().lower()
    return ALIASES.get(name, name)


def rule(calendar: str) -> str:
    """A short description of which dates a calendar has, for error messages."""
    return RULES.get(canonical(calendar), "dates as cftime defines them")


def day_exists(year: int, month: int, day: int, calendar: str) -> bool:
    """True when the day exists in `calendar` (cftime's own validity check)."""
    cal = canonical(calendar)
    if year == 0 and cal in NO_YEAR_ZERO:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cftime.datetime(year, month, day, calendar=cal)
    except ValueError:
        return False
    return True


def next_day(year: int, month: int, day: int, calendar: str) -> tuple[int, int, int]:
    """The first day that exists in `calendar` after (year, month, day) as written (which may not exist)."""
    y, m, d = year, month, day
    for _ in range(400):  # year 0 of a calendar without it is the longest run (366 days)
        d += 1
        if d > 31:
            d, m = 1, m + 1
        if m > 12:
            m, y = 1, y + 1
        if day_exists(y, m, d, calendar):
            return y, m, d
    raise ValueError(f"no day after {year:04d}-{month:02d}-{day:02d} exists in the {calendar} calendar")


def _make(fields, calendar: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cftime.datetime(*fields, calendar=canonical(calendar))


def _micros(t, calendar: str) -> int:
    epoch = _make((1970, 1, 1), calendar)
    return (t - epoch) // ONE_US


def missing_day_message(ct: CalendarTime, calendar: str, param: str) -> str:
    return (f"{param}: {ct.day_text()} does not exist in the {calendar} calendar ({rule(calendar)}); "
            "as an interval end it selects up to the last day that exists")


def bound(ct: CalendarTime, calendar: str, role: str, param: str) -> tuple[int, bool]:
    """`ct` as microseconds since 1970-01-01 UTC of `calendar`, and whether the bound is exclusive.

    role "instant": the instant itself, 400 when its day does not exist in the calendar.
    role "start": the first instant of the written unit; a missing day moves to the next day.
    role "end": the last instant of the written unit (year, month, day: exclusive at the start
    of the next one); a missing day ends before the next day that exists.
    The zone offset is applied in the calendar's own arithmetic.
    """
    cal = canonical(calendar)
    offset = _dt.timedelta(minutes=ct.offset)
    y, m, d = ct.year, ct.month, ct.day
    if not day_exists(y, m, d, cal):
        if role == "instant":
            raise BadRequest(missing_day_message(ct, calendar, param), parameter=param)
        start = _make(next_day(y, m, d, cal), cal) - offset
        return _micros(start, cal), role == "end"
    if role != "end" or ct.precision == "time":
        return _micros(_make(ct.fields, cal) - offset, cal), False
    if ct.precision == "day":
        upper = _make((y, m, d), cal) + _dt.timedelta(days=1)
    elif ct.precision == "month":
        upper = _make((y + (m == 12), m % 12 + 1, 1), cal)
    else:
        upper = _make((y + 1, 1, 1), cal)
    return _micros(upper - offset, cal), True


def axis_micros(values: np.ndarray, calendar: str) -> np.ndarray:
    """A time axis (numpy datetime64 or cftime objects) as int64 microseconds since 1970-01-01 of its calendar."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.datetime64):
        return values.astype("datetime64[us]").astype("int64")
    if values.size == 0:
        return np.zeros(0, dtype="int64")
    cal = canonical(getattr(values.flat[0], "calendar", None) or calendar)
    epoch = _make((1970, 1, 1), cal)
    return np.fromiter(((v - epoch) // ONE_US for v in values.ravel()), dtype="int64", count=values.size)


def conversion_calendar(values: np.ndarray, calendar: str) -> str:
    """The calendar requests are converted in: the axis's own for cftime axes, proleptic Gregorian for numpy ones."""
    if np.issubdtype(np.asarray(values).dtype, np.datetime64):
        return "proleptic_gregorian"
    return canonical(calendar)


def micros_to_iso(us: int, calendar: str) -> str:
    """Microseconds since 1970-01-01 of `calendar` -> `YYYY-MM-DDThh:mm:ssZ` (for messages)."""
    t = _make((1970, 1, 1), calendar) + _dt.timedelta(microseconds=int(us))
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "Z"


def to_utc_datetime(ct: CalendarTime, role: str, param: str) -> tuple[_dt.datetime, bool]:
    """A request value as a naive UTC `datetime` of the Gregorian calendar (job lists, features), and exclusivity."""
    us, exclusive = bound(ct, "proleptic_gregorian", role, param)
    try:
        return _dt.datetime(1970, 1, 1) + _dt.timedelta(microseconds=us), exclusive
    except OverflowError:
        raise BadRequest(f"{param}: {ct} is outside the representable years 1..9999", parameter=param) from None
