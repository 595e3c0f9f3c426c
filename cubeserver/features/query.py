"""Turn the items query string into a store query, with one 400 per bad parameter.

Decisions (OGC API - Features Part 1/2/3):
- `limit` above the configured maximum is clamped, not an error (Part 1 /req/core/fc-limit-response).
- `bbox` longitudes may have min > max: the box crosses the antimeridian (Part 1 7.15.3);
  latitudes must be ordered and within +-90. Six numbers: the heights are ignored.
- `datetime` on a collection without a time property is a 400: silently ignoring it
  would return features the client asked to exclude.
- Any other parameter must be a queryable (Part 3 "queryables as query parameters"):
  equality, numeric properties compared as numbers. Unknown names are a 400 listing them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadRequest
from . import times
from .store import FeatureStore

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326_URI = "http://www.opengis.net/def/crs/EPSG/0/4326"
SUPPORTED_CRS = [CRS84_URI, EPSG4326_URI]
_CRS_ALIASES = {
    CRS84_URI: CRS84_URI, "ogc:crs84": CRS84_URI, "crs84": CRS84_URI, "urn:ogc:def:crs:ogc:1.3:crs84": CRS84_URI,
    EPSG4326_URI: EPSG4326_URI, "epsg:4326": EPSG4326_URI, "urn:ogc:def:crs:epsg::4326": EPSG4326_URI,
}
_CRS_ALIASES = {k.lower(): v for k, v in _CRS_ALIASES.items()}

RESERVED = ("f", "limit", "offset", "bbox", "bbox-crs", "datetime", "properties", "crs")


@dataclass
class ItemsQuery:
    limit: int
    offset: int
    bboxes: list[tuple] | None = None
    time: times.Range | None = None
    filters: dict | None = None
    properties: list[str] | None = None
    crs: str = CRS84_URI

    def run(self, store: FeatureStore):
        return store.query(bboxes=self.bboxes, time=self.time, filters=self.filters, offset=self.offset,
                           limit=self.limit, properties=self.properties, unlocated_match=True)


def parse_crs(value: str | None, parameter: str) -> str:
    """A supported CRS as its OGC URI (short forms like EPSG:4326 accepted too)."""
    if value is None or not value.strip():
        return CRS84_URI
    uri = _CRS_ALIASES.get(value.strip().strip("[]").lower())
    if uri is None:
        raise BadRequest(f"unsupported {parameter} {value!r}; supported: {', '.join(SUPPORTED_CRS)}", parameter=parameter)
    return uri


def parse_bbox(text: str | None, crs: str) -> list[tuple] | None:
    """bbox -> CRS84 boxes (two when it crosses the antimeridian)."""
    if text is None:
        return None
    try:
        nums = [float(v) for v in text.split(",")]
    except ValueError:
        raise BadRequest(f"bbox must be 4 or 6 comma-separated numbers, got {text!r}", parameter="bbox") from None
    if len(nums) not in (4, 6) or any(v != v or v in (float("inf"), float("-inf")) for v in nums):
        raise BadRequest(f"bbox must be 4 or 6 comma-separated finite numbers, got {text!r}", parameter="bbox")
    lo, hi = (nums[0], nums[1]), (nums[-3 if len(nums) == 6 else 2], nums[-2 if len(nums) == 6 else 3])
    if crs == EPSG4326_URI:  # EPSG:4326 axis order is latitude, longitude
        lo, hi = lo[::-1], hi[::-1]
    (minx, miny), (maxx, maxy) = lo, hi
    axis = "latitude" if crs == CRS84_URI else "first (latitude)"
    for v in (miny, maxy):
        if not -90 <= v <= 90:
            raise BadRequest(f"bbox latitude {v} is outside -90..90", parameter="bbox")
    for v in (minx, maxx):
        if not -180 <= v <= 180:
            raise BadRequest(f"bbox longitude {v} is outside -180..180", parameter="bbox")
    if miny > maxy:
        raise BadRequest(f"bbox minimum {axis} {miny} is greater than the maximum {maxy}", parameter="bbox")
    if minx > maxx:
        return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
    return [(minx, miny, maxx, maxy)]


def parse_datetime(text: str | None, store: FeatureStore) -> times.Range | None:
    """`datetime` as a closed UTC range (400 when malformed); None when absent or when the collection has no time."""
    if text is None:
        return None
    try:
        rng = times.parse_range(text)
    except ValueError as e:
        raise BadRequest(f"datetime {text!r} is not an RFC 3339 instant or interval: {e}", parameter="datetime") from None
    if not store.has_time:
        # no feature has a temporal geometry, and Features /req/core/fc-time-response C says `datetime` matches
        # every such feature: a well-formed value selects the whole collection
        return None
    return rng


def parse_properties(text: str | None, store: FeatureStore) -> list[str] | None:
    """`properties=a,b`: keep only these; an empty value keeps none."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in store.property_names]
    if unknown:
        raise BadRequest(f"unknown properties {', '.join(unknown)}; available: {', '.join(store.property_names)}",
                         parameter="properties")
    return list(dict.fromkeys(names))


def filterable(store: FeatureStore) -> dict[str, dict]:
    """The store's queryables minus any whose name is taken by a standard parameter."""
    return {k: v for k, v in store.queryables().items() if k not in RESERVED}


def parse_filters(params, store: FeatureStore) -> dict | None:
    """Every non-reserved parameter is `queryable=value`; `params` is a starlette QueryParams."""
    queryables = filterable(store)
    filters = {}
    for name in dict.fromkeys(params.keys()):
        if name in RESERVED:
            continue
        if name not in queryables:
            hint = " (use bbox for spatial filters)" if name in ("geometry", "geom") else ""
            raise BadRequest(f"unknown query parameter {name!r}{hint}; queryables of this collection: "
                             f"{', '.join(queryables) or 'none'}", parameter=name)
        values = params.getlist(name)
        if len(values) > 1:
            raise BadRequest(f"{name} is given {len(values)} times; give it once", parameter=name)
        try:
            filters[name] = store.coerce(name, values[0])
        except ValueError:
            raise BadRequest(f"{name} holds {queryables[name]['type']} values; {values[0]!r} cannot match it",
                             parameter=name) from None
    return filters or None


def _limit(limit: int, max_limit: int) -> int:
    """A limit over the documented maximum is an invalid value (/req/core/query-param-invalid): 400."""
    if limit > max_limit:
        raise BadRequest(f"limit: at most {max_limit}; page with offset and the next links", parameter="limit")
    return limit


def items_query(params, store: FeatureStore, limit: int, offset: int, max_limit: int) -> ItemsQuery:
    """Validate everything before any data is touched."""
    for name in ("bbox", "bbox-crs", "datetime", "properties", "crs", "limit", "offset"):
        if len(params.getlist(name)) > 1:
            raise BadRequest(f"{name} is given more than once", parameter=name)
    bbox_crs = parse_crs(params.get("bbox-crs"), "bbox-crs")
    return ItemsQuery(
        limit=_limit(limit, max_limit),
        offset=offset,
        bboxes=parse_bbox(params.get("bbox"), bbox_crs),
        time=parse_datetime(params.get("datetime"), store),
        filters=parse_filters(params, store),
        properties=parse_properties(params.get("properties"), store),
        crs=parse_crs(params.get("crs"), "crs"),
    )
