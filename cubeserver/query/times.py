"""Calendar-free date-times: RFC 3339 / ISO 8601 text -> fields, before any calendar is applied.

A request is parsed into the fields it names (year, month, day, hour, minute, second,
microsecond, zone offset) and the precision it was written to; whether that date exists
is only decided per time axis (`cubeserver.query.cftimes`), so `2022-02-30` is a valid
request on a `360_day` axis and `2023-12-31` a date that calendar lacks. A pandas Timestamp
cannot hold either, hence this module.

Accepted forms (RFC 3339 section 5.6 plus the ISO 8601 reduced precisions OGC APIs use):
`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYYMMDD`, each optionally followed by `T` (or a space)
and `hh`, `hh:mm`, `hh:mm:ss`, `hh:mm:ss.ffffff` (or `hhmm`, `hhmmss`), and a zone `Z`,
`+hh:mm`, `+hhmm` or `+hh`. No zone means UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import BadRequest

_RE = re.compile(
    r"^(?P<year>[0-9]{4})"
    r"(?:(?P<sep1>-)?(?P<month>[0-9]{2})(?:(?(sep1)-|)(?P<day>[0-9]{2}))?)?"
    r"(?:[Tt ](?P<hour>[0-9]{2})(?:(?P<sep2>:)?(?P<minute>[0-9]{2})"
    r"(?:(?(sep2):|)(?P<second>[0-9]{2})(?:[.,](?P<frac>[0-9]{1,9}))?)?)?)?"
    r"(?P<zone>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
EXAMPLE = "e.g. 2000-01-16T06:00:00Z or 2000-01-16"
PRECISIONS = ("year", "month", "day", "time")


@dataclass(frozen=True)
class CalendarTime:
    """One date-time as written: fields in the writer's zone, `offset` minutes east of UTC.

    `precision` is the coarsest unit written: "year" (`2000`), "month" (`2000-01`), "day"
    (`2000-01-16`) or "time" (any time of day). An interval end of precision year/month/day
    covers that whole year/month/day (ISO 8601 reduced precision).
    """

    year: int
    month: int = 1
    day: int = 1
    hour: int = 0
    minute: int = 0
    second: int = 0
    microsecond: int = 0
    offset: int = 0
    precision: str = "time"
    text: str = ""

    @property
    def fields(self) -> tuple[int, int, int, int, int, int, int]:
        return (self.year, self.month, self.day, self.hour, self.minute, self.second, self.microsecond)

    def __str__(self) -> str:
        return self.text or self.isoformat()

    def isoformat(self) -> str:
        """`YYYY-MM-DDThh:mm:ss[.ffffff]` plus the zone (`Z` or `+hh:mm`), whatever the precision."""
        s = f"{self.year:04d}-{self.month:02d}-{self.day:02d}T{self.hour:02d}:{self.minute:02d}:{self.second:02d}"
        if self.microsecond:
            s += f".{self.microsecond:06d}"
        if not self.offset:
            return s + "Z"
        sign = "+" if self.offset > 0 else "-"
        return s + f"{sign}{abs(self.offset) // 60:02d}:{abs(self.offset) % 60:02d}"

    def day_text(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def parse_time(text: str, param: str) -> CalendarTime:
    """One RFC 3339 / ISO 8601 date-time -> CalendarTime; 400 naming `param` on bad syntax or ranges.

    Field ranges are checked here (month 1-12, day 1-31, hour 0-23, minute and second 0-59,
    zone within +-23:59); whether the day exists (Feb 30, Dec 31, Feb 29) depends on the
    calendar of the axis and is checked by the selection.
    """
    t = str(text).strip()
    if not t:
        raise BadRequest(f"{param}: empty date-time; {EXAMPLE}", parameter=param)
    m = _RE.match(t)
    if not m:
        shown = t if len(t) <= 60 else t[:60] + "..."
        raise BadRequest(f"{param}: {shown!r} is not an RFC 3339 date-time ({EXAMPLE})", parameter=param)
    g = m.groupdict()
    frac = g["frac"] or ""
    vals = {k: int(g[k]) if g[k] is not None else d for k, d in
            (("year", 0), ("month", 1), ("day", 1), ("hour", 0), ("minute", 0), ("second", 0))}
    checks = (("month", 1, 12), ("day", 1, 31), ("hour", 0, 23), ("minute", 0, 59), ("second", 0, 59))
    for key, lo, hi in checks:
        if not lo <= vals[key] <= hi:
            raise BadRequest(f"{param}: {t!r} has {key} {vals[key]}, outside {lo}..{hi} ({EXAMPLE})", parameter=param)
    if g["day"] is not None:
        precision = "time" if g["hour"] is not None else "day"
    else:
        precision = "month" if g["month"] is not None else "year"
        if g["hour"] is not None:
            raise BadRequest(f"{param}: {t!r} gives a time of day without a day ({EXAMPLE})", parameter=param)
    return CalendarTime(**vals, microsecond=int((frac + "000000")[:6]), offset=_offset(g["zone"], t, param),
                        precision=precision, text=t)


def _offset(zone: str | None, text: str, param: str) -> int:
    if not zone or zone in "Zz":
        return 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise BadRequest(f"{param}: {text!r} has a zone offset outside -23:59..+23:59", parameter=param)
    return sign * (hours * 60 + minutes)


@dataclass
class TimeSelection:
    """A parsed `datetime`: instants (one or a list) or an interval with open ends (None).

    Values are CalendarTime fields; the selection converts them to each axis's calendar.
    """

    instants: list[CalendarTime] = field(default_factory=list)
    start: CalendarTime | None = None
    end: CalendarTime | None = None
    interval: bool = False
    text: str = ""


def parse_instant(text: str, param: str) -> CalendarTime:
    """One date-time (alias of parse_time, kept for callers of the earlier pandas-based parser)."""
    return parse_time(text, param)


def interval(start: CalendarTime | None, end: CalendarTime | None, text: str, param: str) -> TimeSelection:
    """An interval selection; 400 when both ends are open or, in one zone, the start is after the end.

    Ends in different zones are compared by the selection, in the axis calendar.
    """
    if start is None and end is None:
        raise BadRequest(f"{param}: at least one end of the interval must be given, got {text!r}", parameter=param)
    if starts_after(start, end):
        raise BadRequest(f"{param}: interval start {start} is after its end {end}", parameter=param)
    return TimeSelection(start=start, end=end, interval=True, text=text)


def starts_after(start: CalendarTime | None, end: CalendarTime | None) -> bool:
    """True when both ends are in one zone and the start is after the whole of the end's unit."""
    if start is None or end is None or start.offset != end.offset:
        return False
    return start.fields > _upper_fields(end)


def _upper_fields(ct: CalendarTime) -> tuple:
    """The largest field tuple the written unit covers (31 days and 23:59:59.999999 suffice for ordering)."""
    last = (23, 59, 59, 999999)
    if ct.precision == "year":
        return (ct.year, 12, 31, *last)
    if ct.precision == "month":
        return (ct.year, ct.month, 31, *last)
    if ct.precision == "day":
        return (ct.year, ct.month, ct.day, *last)
    return ct.fields


def parse_datetime(text: str | None, param: str = "datetime") -> TimeSelection | None:
    """Instant `t`, interval `a/b` with open ends `..` or empty, or a list `t1,t2` (OGC API `datetime`).

    An interval end written as a date (`2005-12-10/2005-12-12`), month or year means the
    whole of that day, month or year.
    """
    if text is None:
        return None
    text = str(text).strip()
    if "/" in text:
        pieces = text.split("/")
        if len(pieces) != 2:
            raise BadRequest(f"{param}: an interval is start/end, got {text!r}", parameter=param)
        a, b = (None if p.strip() in ("", "..") else parse_time(p, param) for p in pieces)
        return interval(a, b, text, param)
    return TimeSelection(instants=[parse_time(p, param) for p in text.split(",")], text=text)
