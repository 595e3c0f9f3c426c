"""Turn request strings into values: bbox, datetime, z, name lists, numbers.

Each parser raises BadRequest naming the parameter and what is allowed, so routers
stay thin and EDR, Coverages and Processes report bad input the same way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import BadRequest
from .times import CalendarTime, TimeSelection, parse_datetime, parse_instant  # noqa: F401 - the datetime parsers


# a decimal number as OGC APIs write one (also inf/nan, refused later as not finite): no Python-only
# spellings such as digit separators (`1_000` would read as 1000) or hexadecimal floats
DECIMAL = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*|\s*[+-]?(?:inf|infinity|nan)\s*", re.IGNORECASE)


def decimal(text) -> float:
    """`float(text)` for decimal spellings only; ValueError for anything else (`1_5`, `0x10`, None)."""
    if not isinstance(text, str) or not DECIMAL.fullmatch(text):
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            return float(text)
        raise ValueError(f"not a decimal number: {text!r}")
    return float(text)


def parse_number(text, param: str) -> float:
    try:
        v = decimal(text)
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
