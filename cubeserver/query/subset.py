"""The Coverages `subset=` and `scale-*` grammars, parsed into plain values.

`subset=Lat(40:60),Lon(-10:20)`, `subset=time("2000-03-01T00:00:00Z":"2000-06-01")`,
`subset=level(850)`; `*` is an open end, a single value is a slice. Several `subset`
parameters may be given. Times may be quoted or not (an unquoted `T00:00:00Z` has
colons, so the split point is the one whose two sides both parse).
Axis names are resolved later, against the collection's advertised labels.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import BadRequest
from .parse import decimal

_ITEM = re.compile(r'\s*([^\s(),"]+)\s*\(((?:[^()"]|"[^"]*")*)\)\s*')


@dataclass
class AxisSubset:
    """One `axis(low:high)` or `axis(point)`; values stay text, `None` is an open end."""

    axis: str
    low: str | None = None
    high: str | None = None
    point: str | None = None
    latest: bool = False  # a single `*`: the latest step on time, the whole axis elsewhere

    @property
    def is_point(self) -> bool:
        return self.point is not None

    def text(self) -> str:
        if self.is_point:
            return f"{self.axis}({self.point})"
        if self.latest:
            return f"{self.axis}(*)"
        return f"{self.axis}({self.low or '*'}:{self.high or '*'})"


def _items(text: str, param: str, example: str) -> list[tuple[str, str]]:
    """`a(..),b(..)` -> [(a, ..), (b, ..)], strict about what sits between the items."""
    out, pos, text = [], 0, text.strip()
    if not text:
        raise BadRequest(f"{param}: empty value; expected e.g. {example}", parameter=param)
    while pos < len(text):
        m = _ITEM.match(text, pos)
        if not m:
            raise BadRequest(f"{param}: cannot read {text[pos:]!r}; expected axis(value) items like {example}", parameter=param)
        out.append((m.group(1), m.group(2).strip()))
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                raise BadRequest(f"{param}: expected ',' between items at {text[pos:]!r}", parameter=param)
            pos += 1
    return out


def _unquote(v: str, param: str) -> str | None:
    v = v.strip()
    if v.startswith('"'):
        if len(v) < 2 or not v.endswith('"'):
            raise BadRequest(f"{param}: unbalanced quotes in {v!r}", parameter=param)
        v = v[1:-1].strip()
    if not v:
        raise BadRequest(f"{param}: empty value", parameter=param)
    return None if v == "*" else v


_ISO = re.compile(r"^\d{4}-\d{2}(-\d{2})?([T ]\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$")


def _looks_like_time(v: str) -> bool:
    v = v.strip().strip('"').strip()
    return v == "*" or bool(_ISO.match(v))


def _split_interval(body: str, param: str) -> tuple[str, str] | None:
    """Split `low:high` at the colon outside quotes that leaves two readable halves."""
    colons = []
    quoted = False
    for i, ch in enumerate(body):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            colons.append(i)
    if not colons:
        return None
    if len(colons) == 1:
        return body[: colons[0]], body[colons[0] + 1:]
    for i in colons:  # unquoted times: find the colon with a date-time (or *) on both sides
        a, b = body[:i], body[i + 1:]
        if _looks_like_time(a) and _looks_like_time(b):
            return a, b
    if _looks_like_time(body):
        return None  # one unquoted date-time: a slice
    raise BadRequest(f"{param}: cannot split {body!r} into low:high; quote date-times, e.g. time(\"2000-01-01\":\"2000-02-01\")",
                     parameter=param)


def parse_subset(values: list[str] | str | None, param: str = "subset") -> list[AxisSubset]:
    """All `subset` parameters -> AxisSubset list; an axis may appear once."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[AxisSubset] = []
    seen = set()
    example = 'Lat(40:60),Lon(-10:20) or time("2000-03-01T00:00:00Z")'
    for text in values:
        for axis, body in _items(text, param, example):
            key = axis.lower()
            if key in seen:
                raise BadRequest(f"{param}: axis {axis!r} is given more than once", parameter=param)
            seen.add(key)
            if not body:
                raise BadRequest(f"{param}: {axis}() has no value; expected {axis}(low:high) or {axis}(value)", parameter=param)
            parts = _split_interval(body, param)
            if parts is None:
                point = _unquote(body, param)
                if point is None:
                    out.append(AxisSubset(axis, latest=True))  # axis(*): latest time step / the whole axis
                else:
                    out.append(AxisSubset(axis, point=point))
            else:
                out.append(AxisSubset(axis, low=_unquote(parts[0], param), high=_unquote(parts[1], param)))
    return out


_HOUR24 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ]24(?::00(?::00(?:\.0+)?)?)?(Z|[+-]00:?00)?$", re.IGNORECASE)


def hour24(text: str | None, role: str, param: str) -> str | None:
    """An ISO 8601 hour 24 (`2020-01-31T24:00:00Z`) rewritten to what it means.

    OGC API - Coverages /req/subsetting-temporal/subset G and /datetime A: hour 24 (with zero
    minutes and seconds) is 00:00 of the next day, "evaluating up to, but excluding, that instant".
    As an interval end that is the whole of the day written as a date (`2020-01-31`, which the
    selection reads up to the next day, excluded); as a start or an instant it is the next day's
    00:00 (Gregorian day arithmetic; a day that calendar lacks is a 400). Other values pass unchanged.
    """
    if text is None:
        return None
    m = _HOUR24.match(text.strip().strip('"').strip())
    if not m:
        return text
    day = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    if role == "end":
        return day
    from datetime import date, timedelta

    try:
        nxt = date.fromisoformat(day) + timedelta(days=1)
    except ValueError:
        raise BadRequest(f"{param}: {text!r}: hour 24 of a day the Gregorian calendar lacks; write the next day's "
                         "00:00 instead", parameter=param) from None
    return f"{nxt.isoformat()}T00:00:00Z"


def datetime_hour24(text: str | None, param: str = "datetime") -> str | None:
    """The `datetime` parameter with hour-24 instants rewritten (see `hour24`): `a/b`, `a`, open ends kept."""
    if text is None or "24" not in text:
        return text
    if "/" in text:
        start, _, end = text.partition("/")
        return f"{hour24(start, 'start', param) if start not in ('', '..') else start}/" \
               f"{hour24(end, 'end', param) if end not in ('', '..') else end}"
    return hour24(text, "instant", param)


def parse_axis_numbers(text: str | None, param: str, integer: bool = False) -> dict[str, float]:
    """`scale-size=x(100),y(50)` / `scale-axes=time(2)` -> {axis: number > 0}."""
    if text is None:
        return {}
    out: dict[str, float] = {}
    kind = "an integer" if integer else "a number"
    for axis, body in _items(text, param, "x(100),y(50)"):
        try:
            v = decimal(body)
        except ValueError:
            raise BadRequest(f"{param}: {axis}({body}) needs {kind} greater than 0", parameter=param) from None
        if not math.isfinite(v) or v <= 0:
            raise BadRequest(f"{param}: {axis}({body}) would scale to nothing; use {kind} greater than 0", parameter=param)
        if integer and v != int(v):
            raise BadRequest(f"{param}: {axis}({body}) must be a whole number of cells", parameter=param)
        if axis.lower() in {a.lower() for a in out}:
            raise BadRequest(f"{param}: axis {axis!r} is given more than once", parameter=param)
        out[axis] = int(v) if integer else v
    return out


def parse_scale_factor(text: str | None, param: str = "scale-factor") -> float | None:
    if text is None:
        return None
    try:
        v = decimal(text)
    except ValueError:
        raise BadRequest(f"{param}: {text!r} is not a number; e.g. scale-factor=2 halves the resolution", parameter=param) from None
    if not math.isfinite(v) or v <= 0:
        raise BadRequest(f"{param}: {text!r} would scale to nothing; use a number greater than 0", parameter=param)
    return v
