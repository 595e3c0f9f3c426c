"""EDR `coords`: Well Known Text parsed with shapely, with Z heights and M epoch times kept apart.

EDR writes dimensions glued to the type (`LINESTRINGM(...)`, `LINESTRINGZM(...)`) as well
as spaced (`LINESTRING ZM (...)`). Whatever the form, callers get a 2-D shapely geometry
plus optional per-vertex `z` (height) and `m` (seconds since 1970-01-01) arrays, and
every malformed string becomes a 400 naming the parameter and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.errors import GEOSException

from ..errors import BadRequest

TYPES = ("MULTIPOLYGON", "MULTILINESTRING", "MULTIPOINT", "POLYGON", "LINESTRING", "POINT")
_HEAD = re.compile(r"^\s*([A-Za-z]+)\s*(ZM|Z|M)?\s*(\(|EMPTY\b)", re.IGNORECASE)


@dataclass
class Coords:
    """A parsed `coords`: 2-D geometry in the query CRS, with per-vertex heights/times if given."""

    geom: object  # shapely geometry, x/y only
    z: np.ndarray | None = None  # heights per vertex (Z, ZM), in vertex order
    m: np.ndarray | None = None  # epoch seconds per vertex (M, ZM)
    text: str = ""

    @property
    def kind(self) -> str:
        return self.geom.geom_type

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        c = shapely.get_coordinates(self.geom)
        return c[:, 0], c[:, 1]


_NOT_DECIMAL = re.compile(r"[0-9.]*[xX_][0-9a-fA-FpP_.+-]*")


def parse_coords(text: str | None, allowed: tuple[str, ...], param: str = "coords") -> Coords:
    """Parse WKT; `allowed` are shapely type names, e.g. ("Point", "MultiPoint")."""
    if text is None or not str(text).strip():
        raise BadRequest(f"{param}: required; a WKT {' or '.join(t.upper() for t in allowed)}", parameter=param)
    text = str(text).strip()
    m = _HEAD.match(text)
    if not m:
        raise BadRequest(f"{param}: {_short(text)!r} is not Well Known Text; expected e.g. "
                         f"{_example(allowed)}", parameter=param)
    word, dims = m.group(1).upper(), (m.group(2) or "").upper()
    base = next((t for t in TYPES if word.startswith(t)), None)
    if base is not None and word != base:
        glued = word[len(base):]
        if glued not in ("Z", "M", "ZM") or dims:
            base = None
        dims = glued
    if base is None:
        raise BadRequest(f"{param}: unknown geometry type {m.group(1)!r}; expected {' or '.join(t.upper() for t in allowed)}",
                         parameter=param)
    normal = f"{base} {dims} {text[m.start(3):]}" if dims else f"{base} {text[m.start(3):]}"
    odd = _NOT_DECIMAL.search(text[m.start(3):])
    if odd:  # GEOS reads hexadecimal floats (0x10 = 16): only decimal numbers are coordinates
        raise BadRequest(f"{param}: {odd.group(0)!r} is not a decimal number; expected e.g. {_example(allowed)}",
                         parameter=param)
    try:
        geom = shapely.from_wkt(normal)
    except (GEOSException, ValueError) as e:
        raise BadRequest(f"{param}: malformed {base} ({_geos_message(e)}); expected e.g. {_example(allowed)}",
                         parameter=param) from None
    if geom.geom_type not in allowed:
        raise BadRequest(f"{param}: a {geom.geom_type.upper()} is not accepted here; expected "
                         f"{' or '.join(t.upper() for t in allowed)}", parameter=param)
    if geom.is_empty:
        raise BadRequest(f"{param}: the geometry is empty", parameter=param)
    has_z, has_m = "Z" in dims or shapely.has_z(geom), "M" in dims
    coords = shapely.get_coordinates(geom, include_z=has_z, include_m=has_m)
    if not np.all(np.isfinite(coords)):
        raise BadRequest(f"{param}: coordinates must be finite numbers", parameter=param)
    flat = shapely.force_2d(geom)
    if flat.geom_type in ("Polygon", "MultiPolygon") and not flat.is_valid:
        reason = shapely.is_valid_reason(flat)
        raise BadRequest(f"{param}: the polygon is not valid ({reason}); rings must not cross themselves", parameter=param)
    z = coords[:, 2] if has_z else None
    mv = coords[:, -1] if has_m else None
    return Coords(geom=flat, z=z, m=mv, text=text)


def _example(allowed) -> str:
    examples = {
        "Point": "POINT(-30 40)",
        "MultiPoint": "MULTIPOINT((-30 40),(-20 35))",
        "Polygon": "POLYGON((-30 30,-20 30,-20 40,-30 40,-30 30))",
        "MultiPolygon": "MULTIPOLYGON(((-30 30,-20 30,-20 40,-30 30)))",
        "LineString": "LINESTRING(-30 40,-20 35) or LINESTRINGM(-30 40 1700000000,-20 35 1700003600)",
        "MultiLineString": "MULTILINESTRING((-30 40,-20 35),(-10 30,0 30))",
    }
    return " or ".join(examples[a] for a in allowed if a in examples)


def _geos_message(e: Exception) -> str:
    msg = str(e).split(":", 1)[-1].strip() if "ParseException" in str(e) else str(e)
    return msg[:120]


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
