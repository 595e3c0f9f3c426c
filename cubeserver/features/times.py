"""RFC 3339 instants and intervals as closed UTC ranges.

Both a feature's time value and the `datetime` query parameter become a
(start, end) pair of aware datetimes, so "does it match" is one interval
intersection test. A date without a time covers its whole day, so
`datetime=2020-05-01` finds a feature stamped 2020-05-01T13:00Z and the
other way round.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

Range = tuple[datetime | None, datetime | None]  # None = open end

_DAY = timedelta(days=1) - timedelta(microseconds=1)


def parse_instant(text: str) -> tuple[datetime, datetime]:
    """One RFC 3339 date or date-time -> (start, end); raises ValueError if malformed."""
    t = text.strip()
    if not t:
        raise ValueError("empty time")
    if "T" not in t.upper() and " " not in t and len(t) == 10:
        d = date.fromisoformat(t)
        start = datetime.combine(d, time(), tzinfo=timezone.utc)
        return start, start + _DAY
    t = t[:-1] + "+00:00" if t[-1] in "zZ" else t
    dt = datetime.fromisoformat(t)
    dt = dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    return dt, dt


def parse_range(text: str) -> Range:
    """The `datetime` parameter: an instant, `start/end`, `../end`, `start/..` (empty = open)."""
    if "/" not in text:
        return parse_instant(text)
    parts = text.split("/")
    if len(parts) != 2:
        raise ValueError("an interval has exactly one '/'")
    lo, hi = (p.strip() for p in parts)
    start = None if lo in ("", "..") else parse_instant(lo)[0]
    end = None if hi in ("", "..") else parse_instant(hi)[1]
    if start is None and end is None:
        raise ValueError("both ends of the interval are open")
    if start is not None and end is not None and start > end:
        raise ValueError("the interval starts after it ends")
    return start, end


def value_range(value) -> tuple[datetime, datetime] | None:
    """A feature's time property as a range; None when absent or unparseable (never matches)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        return dt, dt
    if isinstance(value, date):
        return parse_instant(value.isoformat())
    if isinstance(value, str):
        try:
            return parse_instant(value)
        except ValueError:
            return None
    return None


def overlaps(a: tuple[datetime, datetime], b: Range) -> bool:
    start, end = b
    return (end is None or a[0] <= end) and (start is None or a[1] >= start)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ("" if not dt.microsecond else f".{dt.microsecond:06d}") + "Z"
