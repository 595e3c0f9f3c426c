"""Turn request strings into values: bbox, datetime, z, name lists, numbers.

Each parser raises BadRequest naming the parameter and what is allowed, so routers
stay thin and EDR, Coverages and Processes report bad input the same way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pandas as pd

from ..errors import BadRequest


def parse_number(text, param: str) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise BadRequest(f"{param}: {text!r} is not a number", parameter=param) from None
    if not math.isfinite(v):
        raise BadRequest(f"{param}: {text!r} is not a finite number", parameter=param)
    return v


def parse_list(text: str | None, param: str) -> list[str] | None:
    """`a,b,c` -> ['a', 'b', 'c']; empty items are an error, None stays None."""
    if text is None:
        return None
    items = [t.strip() for t in str(text).split(",")]
    if not text.strip() or any(not t for t in items):
        raise BadRequest(f"{param}: expected a comma-separated list of names, got {text!r}", parameter=param)
    return list(dict.fromkeys(items))


def parse_bbox(value, param: str = "bbox") -> tuple[float, ...]:
    """`minx,miny,maxx,maxy` (or 6 numbers with z): returns 4 or 6 floats, min <= max checked.

    minx > maxx is let through: in lon/lat it is a box across the antimeridian (OGC API
    bbox rule), which the selection accepts on geographic grids and refuses elsewhere.
    """
    parts = value if isinstance(value, (list, tuple)) else str(value).split(",")
    if len(parts) not in (4, 6):
        raise BadRequest(f"{param}: expected 4 numbers (minx,miny,maxx,maxy) or 6 with heights, got {len(parts)}", parameter=param)
    nums = [parse_number(p, param) for p in parts]
    n = len(nums) // 2
    for i, axis in enumerate("xyz"[:n]):
        if axis != "x" and nums[i] > nums[i + n]:
            raise BadRequest(f"{param}: min{axis} {nums[i]} is greater than max{axis} {nums[i + n]}", parameter=param)
    return tuple(nums)


@dataclass
class TimeSelection:
    """A parsed `datetime`: instants (one or a list) or an interval with open ends (None)."""

    instants: list[pd.Timestamp] = field(default_factory=list)
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    interval: bool = False
    text: str = ""


def parse_instant(text: str, param: str) -> pd.Timestamp:
    t = text.strip()
    if not t:
        raise BadRequest(f"{param}: empty date-time", parameter=param)
    try:
        ts = pd.Timestamp(t)
    except (ValueError, TypeError, OverflowError):
        raise BadRequest(f"{param}: {text!r} is not an RFC 3339 date-time (e.g. 2000-01-16T06:00:00Z)", parameter=param) from None
    if ts is pd.NaT:
        raise BadRequest(f"{param}: {text!r} is not a date-time", parameter=param)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _end_of_day(day: pd.Timestamp) -> pd.Timestamp:
    """The last instant of `day` in its own resolution (dates past 2262 are second-resolution)."""
    try:
        return day + pd.Timedelta(days=1).as_unit(day.unit) - pd.Timedelta(1, day.unit)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        return day


def parse_datetime(text: str | None, param: str = "datetime") -> TimeSelection | None:
    """Instant `t`, interval `a/b` with open ends `..` or empty, or a list `t1,t2`.

    An interval end written as a date (`2005-12-10/2005-12-12`) means the whole of that day.
    """
    if text is None:
        return None
    text = text.strip()
    if "/" in text:
        pieces = text.split("/")
        if len(pieces) != 2:
            raise BadRequest(f"{param}: an interval is start/end, got {text!r}", parameter=param)
        a, b = (None if p.strip() in ("", "..") else parse_instant(p, param) for p in pieces)
        if b is not None and _DATE_ONLY.match(pieces[1].strip()):
            b = _end_of_day(b)  # an end given as a day includes that day
        if a is None and b is None:
            raise BadRequest(f"{param}: at least one end of the interval must be given, got {text!r}", parameter=param)
        if a is not None and b is not None and a > b:
            raise BadRequest(f"{param}: interval start {pieces[0]} is after its end {pieces[1]}", parameter=param)
        return TimeSelection(start=a, end=b, interval=True, text=text)
    return TimeSelection(instants=[parse_instant(p, param) for p in text.split(",")], text=text)


@dataclass
class ValueSelection:
    """Values on a numeric axis (z or any extra axis): a list of values or a [lo, hi] range."""

    values: list[float] | None = None
    low: float | None = None
    high: float | None = None

    @property
    def is_range(self) -> bool:
        return self.values is None


_RSTEP = re.compile(r"^R(\d+)/([^/]+)/([^/]+)$", re.IGNORECASE)


def parse_z(text: str | None, param: str = "z") -> ValueSelection | None:
    """`z` per EDR: `850`, `200,500`, `100/500` (range) or `R{n}/{min}/{step}`."""
    if text is None:
        return None
    text = text.strip()
    m = _RSTEP.match(text)
    if m:
        n = int(m.group(1))
        if not 0 < n <= 10_000:
            raise BadRequest(f"{param}: R{{n}} needs 1 <= n <= 10000", parameter=param)
        start, step = parse_number(m.group(2), param), parse_number(m.group(3), param)
        return ValueSelection(values=[start + i * step for i in range(n)])
    if "/" in text:
        pieces = text.split("/")
        if len(pieces) != 2:
            raise BadRequest(f"{param}: a range is min/max, got {text!r}", parameter=param)
        lo, hi = (parse_number(p, param) for p in pieces)
        if lo > hi:
            raise BadRequest(f"{param}: range minimum {lo} is greater than maximum {hi}", parameter=param)
        return ValueSelection(low=lo, high=hi)
    return ValueSelection(values=[parse_number(p, param) for p in text.split(",")])
