"""WMS 1.3.0 KVP parsing (OGC 06-042 clause 6.8): case-insensitive names, axis order, dimensions.

Parameter names are case-insensitive, values are not (layer and style names keep their case).
BBOX follows the CRS's axis order (clause 6.7.3.3): EPSG:4326 is lat,lon, so its BBOX is
miny,minx,maxy,maxx; CRS:84 and projected CRSs with easting first are x,y. `bbox_xy` returns
(minx, miny, maxx, maxy) with x/easting first, what the renderer takes.
"""

from __future__ import annotations

import math

from pyproj import CRS
from pyproj.exceptions import CRSError

from ..axes import parse_crs
from .errors import WMSError

MAX_SIZE = 4096  # pixels per side of a GetMap / legend


class KVP:
    """Query parameters by upper-cased name (the first value when repeated)."""

    def __init__(self, items):
        self.raw: dict[str, str] = {}
        for k, v in items:
            self.raw.setdefault(k.upper(), v)

    def get(self, name: str, default=None):
        return self.raw.get(name.upper(), default)

    def required(self, name: str) -> str:
        v = self.raw.get(name.upper())
        if v is None or v.strip() == "":
            raise WMSError(f"missing parameter {name}", "MissingParameterValue", name)
        return v

    def dims(self) -> dict[str, str]:
        """DIM_<name>=value pairs (names upper-cased, without the prefix)."""
        return {k[4:]: v for k, v in self.raw.items() if k.startswith("DIM_")}


def wms_crs(text: str) -> CRS:
    """`CRS:84`, `EPSG:4326`, `EPSG:3857`, or any pyproj-readable id; InvalidCRS otherwise."""
    t = text.strip()
    try:
        if t.upper() in ("CRS:84", "OGC:CRS84"):
            return parse_crs("OGC:CRS84")
        return parse_crs(t)
    except (CRSError, ValueError):
        raise WMSError(f"CRS {text!r} is not supported; use CRS:84, EPSG:4326, EPSG:3857 or another EPSG code",
                       "InvalidCRS", "CRS") from None


def northing_first(crs: CRS) -> bool:
    """Whether the CRS's first axis is latitude or northing (EPSG:4326 and friends in WMS 1.3.0)."""
    info = crs.axis_info
    return bool(info) and info[0].direction.lower() in ("north", "south")


def bbox_xy(text: str, crs: CRS) -> tuple[float, float, float, float]:
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise WMSError(f"BBOX must be four numbers minx,miny,maxx,maxy (lat,lon order for EPSG:4326), got {text!r}",
                       None, "BBOX")
    if northing_first(crs):
        vals = [vals[1], vals[0], vals[3], vals[2]]
    minx, miny, maxx, maxy = vals
    if minx >= maxx or miny >= maxy:
        raise WMSError(f"BBOX {text!r} is empty or inverted: the minimum must be below the maximum on each axis",
                       None, "BBOX")
    return minx, miny, maxx, maxy


def size(kvp: KVP, name: str) -> int:
    text = kvp.required(name)
    try:
        v = int(text)
    except ValueError:
        raise WMSError(f"{name} must be a whole number of pixels, got {text!r}", None, name) from None
    if not 1 <= v <= MAX_SIZE:
        raise WMSError(f"{name} must be between 1 and {MAX_SIZE} pixels, got {v}", None, name)
    return v


def boolean(kvp: KVP, name: str, default: bool = False) -> bool:
    v = kvp.get(name)
    if v is None or v == "":
        return default
    if v.upper() in ("TRUE", "FALSE"):
        return v.upper() == "TRUE"
    raise WMSError(f"{name} must be TRUE or FALSE, got {v!r}", None, name)


def bgcolor(kvp: KVP) -> str | None:
    v = kvp.get("BGCOLOR")
    if not v:
        return None
    t = v[2:] if v.lower().startswith("0x") else v.lstrip("#")
    if len(t) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in t):
        raise WMSError(f"BGCOLOR must be 0xRRGGBB, got {v!r}", None, "BGCOLOR")
    return "0x" + t.upper()
