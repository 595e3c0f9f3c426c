"""`MapRequest`: one map of one variable (the contract shared by Maps, Tiles and WMS), and its checks.

The bbox is always x/easting first in `crs` (WMS 1.3.0 callers swap EPSG:4326's lat/lon before
calling). Errors name the HTTP parameter of OGC API - Maps (`bbox`, `crs`, `width`, `height`,
`bgcolor`, `f`, `resampling`), so every caller reports them the same way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from pyproj import CRS
from pyproj.exceptions import CRSError

from ..axes import CRS84_URI, is_lonlat, parse_crs
from ..errors import BadRequest

MAX_SIDE = 4096  # pixels per side of one map
FORMATS = ("png", "jpeg", "webp")
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
RESAMPLING = ("nearest", "bilinear")
_HEX = re.compile(r"^(?:0x|#)([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


@dataclass(frozen=True)
class MapRequest:
    """One map: `parameter` drawn over `bbox` (minx, miny, maxx, maxy in `crs`, x first) on width x height pixels.

    `datetime`: one instant of the data (None: the latest step); `subset`: z or extra dimension -> one
    value (missing: the first); `style`: a style id of `styles_for` (None: the default);
    `bgcolor` "0xRRGGBB"/"#RRGGBB" fills nodata when `transparent` is False and always for JPEG;
    `format` png | jpeg | webp; `resampling` nearest | bilinear.
    """

    parameter: str
    bbox: tuple[float, float, float, float]
    crs: str = CRS84_URI
    width: int = 256
    height: int = 256
    datetime: str | None = None
    subset: dict = field(default_factory=dict)
    style: str | None = None
    transparent: bool = True
    bgcolor: str | None = None
    format: str = "png"
    resampling: str = "nearest"

    def __hash__(self):  # subset is a dict: hash its items
        return hash((self.parameter, tuple(self.bbox), self.crs, self.width, self.height, self.datetime,
                     tuple(sorted((str(k), str(v)) for k, v in self.subset.items())), self.style, self.transparent,
                     self.bgcolor, self.format, self.resampling))


def output_crs(req: MapRequest) -> CRS:
    """The output CRS; 400 `crs` for one pyproj cannot read or that is not a horizontal 2-D CRS."""
    try:
        return parse_crs(str(req.crs))
    except CRSError as e:
        raise BadRequest(f"crs: {req.crs!r} is not a CRS this server can draw in ({e}); use e.g. "
                         "http://www.opengis.net/def/crs/EPSG/0/3857 or http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                         parameter="crs") from None


def check(req: MapRequest) -> CRS:
    """Validate the plain members of `req`; returns the output CRS. Raises BadRequest naming the parameter."""
    for name in ("width", "height"):
        v = getattr(req, name)
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_SIDE:
            raise BadRequest(f"{name}: {v!r} is not a whole number of pixels from 1 to {MAX_SIDE}", parameter=name)
    if req.format not in FORMATS:
        raise BadRequest(f"f: unsupported map format {req.format!r}; allowed: {', '.join(FORMATS)}", parameter="f")
    if req.resampling not in RESAMPLING:
        raise BadRequest(f"resampling: {req.resampling!r} is not one of {', '.join(RESAMPLING)}", parameter="resampling")
    background(req)
    crs = output_crs(req)
    b = tuple(req.bbox)
    if len(b) != 4 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in b):
        raise BadRequest(f"bbox: expected four finite numbers minx,miny,maxx,maxy, got {b!r}", parameter="bbox")
    minx, miny, maxx, maxy = b
    if miny >= maxy:
        raise BadRequest(f"bbox: miny {miny:g} must be below maxy {maxy:g}", parameter="bbox")
    if minx >= maxx and not (is_lonlat(crs) and minx > maxx):
        raise BadRequest(f"bbox: minx {minx:g} must be below maxx {maxx:g} (only a longitude/latitude bbox may cross "
                         "the antimeridian with minx > maxx)", parameter="bbox")
    if is_lonlat(crs) and (miny < -90 or maxy > 90 or min(minx, maxx) < -540 or max(minx, maxx) > 540):
        raise BadRequest(f"bbox: {', '.join(f'{v:g}' for v in b)} is outside longitude/latitude ranges "
                         "(latitude -90..90)", parameter="bbox")
    return crs


def background(req: MapRequest) -> tuple[int, int, int]:
    """bgcolor as (r, g, b); white when unset. Accepted: 0xRRGGBB, #RRGGBB, 0xAARRGGBB (OGC API Maps; the
    alpha is ignored) and W3C/CSS colour names (`navy`). 400 `bgcolor` for anything else."""
    if req.bgcolor is None or req.bgcolor == "":
        return (255, 255, 255)
    text = str(req.bgcolor).strip()
    m = _HEX.match(text)
    if m:
        h = m.group(1)[-6:]
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    if text.isalpha():
        from matplotlib.colors import CSS4_COLORS

        hexa = CSS4_COLORS.get(text.lower())
        if hexa:
            return (int(hexa[1:3], 16), int(hexa[3:5], 16), int(hexa[5:7], 16))
    raise BadRequest(f"bgcolor: {req.bgcolor!r} is not a colour: use 0xRRGGBB, #RRGGBB or a colour name such as white",
                     parameter="bgcolor")
