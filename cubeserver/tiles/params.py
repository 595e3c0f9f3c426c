"""Query parameters of map and coverage tiles, parsed once: field, time, other axes, style, format.

`properties` names one variable for a map tile (the first of the collection by default) and one or
more for a coverage tile (all by default); `datetime` is one instant; `subset` gives one value per
vertical or extra axis (`subset=pressure(500)`), as in OGC API - Maps/Coverages. Each bad value is a
400 naming the parameter and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import BadRequest
from ..query.parse import parse_list
from ..query.subset import parse_subset
from ..registry import Collection

# image formats of map tiles: key -> (media type, aliases)
IMAGE_FORMATS = {
    "png": ("image/png", ("png", "image/png")),
    "jpeg": ("image/jpeg", ("jpeg", "jpg", "image/jpeg")),
    "webp": ("image/webp", ("webp", "image/webp")),
}
DATA_FORMATS = {
    "geotiff": ("image/tiff; application=geotiff", ("geotiff", "tif", "tiff", "gtiff", "image/tiff")),
    "netcdf": ("application/x-netcdf", ("netcdf", "nc", "netcdf4", "application/x-netcdf", "application/netcdf")),
}


def pick_format(f: str | None, accept: str, table: dict) -> str:
    """`f` (any alias) wins; else the first media type of Accept the table has; else the table's first key."""
    if f is not None and f.strip():
        want = f.strip().lower()
        for key, (_, aliases) in table.items():
            if want == key or want in aliases:
                return key
        raise BadRequest(f"unsupported format f={f!r}; allowed: {', '.join(table)}", parameter="f")
    for part in (accept or "").lower().split(","):
        mt = part.split(";")[0].strip()
        for key, (media, aliases) in table.items():
            if mt == media.split(";")[0] or mt in aliases:
                return key
    return next(iter(table))


def fields(c: Collection, text: str | None, many: bool) -> list[str]:
    names = parse_list(text, "properties") if text is not None else None
    allowed = c.variables
    if not names:
        return list(allowed) if many else allowed[:1]
    bad = [n for n in names if n not in allowed]
    if bad:
        raise BadRequest(f"properties: {', '.join(map(repr, bad))} not in this collection; fields: {', '.join(allowed)}",
                         parameter="properties")
    if not many and len(names) > 1:
        raise BadRequest("properties: a map tile shows one field; name one of " + ", ".join(allowed),
                         parameter="properties")
    return names


def subset_values(values: list[str] | None) -> dict[str, str]:
    """`subset=axis(value)` (repeated or comma-separated) -> {axis: value}; a range is a 400 (a map shows one slice)."""
    out: dict[str, str] = {}
    for sub in parse_subset(values or None):
        if not sub.is_point:
            raise BadRequest(f"subset: {sub.axis} needs one value, e.g. {sub.axis}(500); a map shows one slice",
                             parameter="subset")
        out[sub.axis] = sub.point.strip('"')
    return out


@dataclass
class TileQuery:
    """What a tile request asks besides its position."""

    properties: list[str]
    datetime: str | None = None
    subset: dict[str, str] = field(default_factory=dict)
    style: str | None = None
    format: str = "png"
    transparent: bool = True
    bgcolor: str | None = None


def truthy(text: str | None, name: str, default: bool = True) -> bool:
    if text is None or text == "":
        return default
    t = text.strip().lower()
    if t in ("true", "1", "yes"):
        return True
    if t in ("false", "0", "no"):
        return False
    raise BadRequest(f"{name} must be true or false, got {text!r}", parameter=name)


def parse_tile_query(c: Collection, params, *, data: bool, style: str | None, accept: str = "") -> TileQuery:
    """A tile request's query string (Starlette QueryParams) -> TileQuery; 400 naming the parameter at fault."""
    dt = params.get("datetime")
    if dt is not None and ("/" in dt or "," in dt):
        raise BadRequest(f"datetime: a tile shows one instant, got {dt!r}", parameter="datetime")
    styles = params.get("styles") or params.get("style")
    if style is None and styles:
        style = styles
    return TileQuery(
        properties=fields(c, params.get("properties"), many=data),
        datetime=dt.strip() if dt and dt.strip() else None,
        subset=subset_values(params.getlist("subset")),
        style=style,
        format=pick_format(params.get("f"), accept, DATA_FORMATS if data else IMAGE_FORMATS),
        transparent=truthy(params.get("transparent"), "transparent"),
        bgcolor=params.get("bgcolor") or None,
    )
