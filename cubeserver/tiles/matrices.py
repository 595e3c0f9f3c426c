"""Tile matrix sets (OGC Two Dimensional Tile Matrix Set 2.0, from morecantile) and tile arithmetic.

Everything a tile route needs before any data is read: the TileMatrixSet by id (404 naming
`tileMatrixSetId`), a tile index checked against its matrix (404 naming `tileMatrix`,
`tileRow` or `tileCol`: OGC API - Tiles /req/core/tc-error), the tile's bounds in the TMS CRS and
in CRS84, and the limits of a collection's data extent per tile matrix (tileMatrixSetLimits,
/req/tileset/tilematrixsetlimits).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import morecantile
from pyproj import CRS

from ..errors import NotFound

# the sets offered: the two every OGC API - Tiles client knows, plus the other global ones morecantile has
OFFERED = ["WebMercatorQuad", "WorldCRS84Quad", "WGS1984Quad", "WorldMercatorWGS84Quad"]
DEG_TO_M = 111319.490793  # metres per degree along the equator (WGS 84), for zoom-level choice


@lru_cache(maxsize=None)
def get(tms_id: str) -> morecantile.TileMatrixSet:
    """The TileMatrixSet `tms_id` (exact, case-sensitive id as in OGC TMS 2.0); NotFound naming tileMatrixSetId."""
    if tms_id not in OFFERED:
        raise NotFound(f"no tile matrix set {tms_id!r}; available: {', '.join(OFFERED)}", parameter="tileMatrixSetId")
    return morecantile.tms.get(tms_id)


@lru_cache(maxsize=None)
def document(tms_id: str) -> dict:
    """The OGC TMS 2.0 JSON encoding of the set (what morecantile writes, `id`/`uri`/`crs`/`tileMatrices`).

    The TMS 1.0 member names are added alongside (`identifier`, `supportedCRS`, `boundingBox` with
    `lowerCorner`/`upperCorner`, each matrix's `identifier` and `topLeftCorner`): GDAL before 3.7 reads
    only those, and TMS 2.0 readers ignore members they do not know."""
    t = get(tms_id)
    doc = t.model_dump(mode="json", exclude_none=True)
    crs = str(t.crs.root)
    b = t.xy_bbox
    box = {"crs": crs, "lowerLeft": [b.left, b.bottom], "upperRight": [b.right, b.top]}
    doc.setdefault("boundingBox", box)
    doc["boundingBox"].update({"type": "BoundingBoxType", "lowerCorner": [b.left, b.bottom],
                               "upperCorner": [b.right, b.top]})
    doc.update({"identifier": t.id, "supportedCRS": crs})
    for m in doc["tileMatrices"]:
        m.update({"identifier": m["id"], "topLeftCorner": m["pointOfOrigin"]})
    return doc


@lru_cache(maxsize=None)
def crs_of(tms_id: str) -> CRS:
    return CRS.from_user_input(get(tms_id).crs.srs)


def crs_uri(tms_id: str) -> str:
    return str(get(tms_id).crs.root)


@dataclass(frozen=True)
class Tile:
    tms: str
    z: int
    row: int
    col: int

    @property
    def xy_bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in the TMS CRS, x/easting first."""
        return _xy_bounds(self)

    @property
    def crs84_bounds(self) -> tuple[float, float, float, float]:
        return _crs84_bounds(self)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        m = get(self.tms).matrix(self.z)
        return m.tileWidth, m.tileHeight


# per tile, remembered: morecantile transforms through pyproj CRS objects it hashes by writing their WKT (~0.1 ms
# a tile); the bounds of a tile never change, and a map client asks for the same few hundred tiles again and again
@lru_cache(maxsize=1 << 16)
def _xy_bounds(t: Tile) -> tuple[float, float, float, float]:
    b = get(t.tms).xy_bounds(morecantile.Tile(t.col, t.row, t.z))
    return (b.left, b.bottom, b.right, b.top)


@lru_cache(maxsize=1 << 16)
def _crs84_bounds(t: Tile) -> tuple[float, float, float, float]:
    b = get(t.tms).bounds(morecantile.Tile(t.col, t.row, t.z))
    return (b.left, b.bottom, b.right, b.top)


def _integer(text: str, name: str) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise NotFound(f"{name} must be a non-negative integer, got {text!r}", parameter=name) from None
    if value < 0:
        raise NotFound(f"{name} must be a non-negative integer, got {text!r}", parameter=name)
    return value


def tile(tms_id: str, z: str, row: str, col: str) -> Tile:
    """The tile at (tileMatrix, tileRow, tileCol), checked against the matrix; NotFound naming the index at fault."""
    t = get(tms_id)
    zi = _integer(z, "tileMatrix")
    if zi < t.minzoom or zi > t.maxzoom:
        raise NotFound(f"tileMatrix {z} is not in {tms_id} (tile matrices {t.minzoom}..{t.maxzoom})", parameter="tileMatrix")
    m = t.matrix(zi)
    ri, ci = _integer(row, "tileRow"), _integer(col, "tileCol")
    if ri >= m.matrixHeight:
        raise NotFound(f"tileRow {row} is outside tile matrix {zi} of {tms_id} (rows 0..{m.matrixHeight - 1})",
                       parameter="tileRow")
    if ci >= m.matrixWidth:
        raise NotFound(f"tileCol {col} is outside tile matrix {zi} of {tms_id} (columns 0..{m.matrixWidth - 1})",
                       parameter="tileCol")
    return Tile(tms_id, zi, ri, ci)


def _lon_ranges(west: float, east: float) -> list[tuple[float, float]]:
    """A CRS84 longitude interval as one or two -180..180 pieces (west > east: across the antimeridian)."""
    return [(west, 180.0), (-180.0, east)] if west > east else [(west, east)]


def intersects(bounds84: tuple[float, float, float, float], extent84: tuple[float, float, float, float]) -> bool:
    """Whether a tile's CRS84 bounds meet the data's CRS84 extent (either may cross the antimeridian)."""
    w, s, e, n = bounds84
    W, S, E, N = extent84
    if s >= N or n <= S:
        return False
    return any(a < d and c < b for a, b in _lon_ranges(w, e) for c, d in _lon_ranges(W, E))


def max_zoom(tms_id: str, extent84, shape: tuple[int, int]) -> int:
    """The coarsest tile matrix whose cells are at least as fine as the data's cells (at most the set's last).

    `shape` is (ny, nx) of the grid; the data's cell size is taken from its CRS84 extent, in metres on the
    equator for projected sets and degrees for geographic ones."""
    t = get(tms_id)
    w, s, e, n = extent84
    width = ((e - w) % 360.0 or 360.0) if w > e else (e - w)
    res_deg = max(min(width / max(shape[1], 1), (n - s) / max(shape[0], 1)), 1e-9)
    res = res_deg if crs_of(tms_id).is_geographic else res_deg * DEG_TO_M
    for z in range(t.minzoom, t.maxzoom + 1):
        if t.matrix(z).cellSize <= res:
            return z
    return t.maxzoom


def limits(tms_id: str, extent84, zmax: int) -> list[dict]:
    """tileMatrixSetLimits of the CRS84 extent for tile matrices minzoom..zmax (TMS 2.0 tileMatrixLimits)."""
    t = get(tms_id)
    w, s, e, n = extent84
    geo = crs_of(tms_id)
    area = geo.area_of_use
    if area is not None and not geo.is_geographic:  # e.g. Web Mercator stops at +-85.06
        s, n = max(s, area.south), min(n, area.north)
    tb = t.bbox  # the set's own geographic extent: points beyond it have no tile
    w, e = (max(w, tb.left), min(e, tb.right)) if w <= e else (w, e)
    s, n = max(s, tb.bottom), min(n, tb.top)
    eps = 1e-9
    out = []
    for z in range(t.minzoom, zmax + 1):
        m = t.matrix(z)
        rows: list[int] = []
        cols: list[int] = []
        for a, b in _lon_ranges(w, e):
            ul = t.tile(a + eps, n - eps, z)
            lr = t.tile(b - eps, s + eps, z)
            rows += [ul.y, lr.y]
            cols += [ul.x, lr.x]
        if w > e:  # across the antimeridian: every column (limits are one rectangle)
            cols = [0, m.matrixWidth - 1]
        clamp = lambda v, hi: max(0, min(int(v), hi))  # noqa: E731
        out.append({"tileMatrix": str(z),
                    "minTileRow": clamp(min(rows), m.matrixHeight - 1), "maxTileRow": clamp(max(rows), m.matrixHeight - 1),
                    "minTileCol": clamp(min(cols), m.matrixWidth - 1), "maxTileCol": clamp(max(cols), m.matrixWidth - 1)})
    return out


def zoom_span(tms_id: str) -> tuple[int, int]:
    t = get(tms_id)
    return t.minzoom, t.maxzoom


__all__ = ["OFFERED", "Tile", "get", "document", "crs_of", "crs_uri", "tile", "intersects", "max_zoom", "limits",
           "zoom_span"]
