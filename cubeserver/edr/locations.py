"""EDR named locations: the features of the Features collection named by `locations:` in the config.

A location's geometry decides the query it runs: a point is a position query, a
polygon an area query, a line a trajectory. Geometries are CRS84, as the FeatureStore keeps them.

The list takes `bbox` and `datetime` (EDR 1.1) besides `f`, filtered by the store's own
STRtree and time ranges (FeatureStore.query), and refuses any other parameter.
"""

from __future__ import annotations

from typing import Mapping
from urllib.parse import urlencode

import shapely

from ..context import link
from ..errors import BadRequest, NotFound
from ..features import times
from ..query.parse import parse_bbox
from ..query.wkt import Coords
from ..registry import Collection, Registry
from . import queries
from .params import refuse_unknown

LIST_PARAMS = ("bbox", "datetime", "f")

KIND = {"Point": "position", "MultiPoint": "position", "Polygon": "area", "MultiPolygon": "area",
        "LineString": "trajectory", "MultiLineString": "trajectory"}
NAME_KEYS = ("name", "NAME", "title", "label", "nameascii")


def store(registry: Registry, c: Collection):
    if not c.config.locations:
        raise NotFound(f"collection {c.id!r} has no named locations", parameter="collectionId")
    return registry.get(c.config.locations).features


def _name(props: dict, fid: str) -> str:
    for k in NAME_KEYS:
        if props.get(k):
            return str(props[k])
    return fid


def check_list_params(names) -> None:
    """400 for a parameter the locations list does not take (f, bbox, datetime)."""
    refuse_unknown(names, LIST_PARAMS, "the locations list")


def list_bboxes(raw: str | None) -> list[tuple] | None:
    """`bbox` of the list: CRS84 minx,miny,maxx,maxy (6 numbers: the heights are ignored).

    minx > maxx is a box across the antimeridian and becomes two boxes, as in Features;
    longitudes must lie in -180..180 and latitudes in -90..90 (the store's geometries do).
    A blank value means no bbox.
    """
    if raw is None or not raw.strip():
        return None
    nums = parse_bbox(raw, "bbox")
    minx, miny, maxx, maxy = (nums[0], nums[1], nums[3], nums[4]) if len(nums) == 6 else nums
    for v in (minx, maxx):
        if not -180 <= v <= 180:
            raise BadRequest(f"bbox: longitude {v:g} is outside -180..180 (CRS84); for a box across the antimeridian "
                             "give minx > maxx, e.g. 170,-20,-170,20", parameter="bbox")
    for v in (miny, maxy):
        if not -90 <= v <= 90:
            raise BadRequest(f"bbox: latitude {v:g} is outside -90..90", parameter="bbox")
    if minx > maxx:
        return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
    return [(minx, miny, maxx, maxy)]


def list_time(raw: str | None, features) -> times.Range | None:
    """`datetime` of the list: an RFC 3339 instant or interval, malformed is a 400.

    It filters only when the locations' features have a time property; without one
    (e.g. the bundled `places`) locations hold for all times, so nothing is removed.
    A blank value means no datetime.
    """
    if raw is None or not raw.strip():
        return None
    try:
        rng = times.parse_range(raw)
    except ValueError as e:
        raise BadRequest(f"datetime: {raw!r} is not an RFC 3339 instant or interval: {e}", parameter="datetime") from None
    return rng if features.has_time else None


def listing(registry: Registry, c: Collection, base: str, href: str, params: Mapping[str, str] | None = None) -> dict:
    """The locations as an EDR GeoJSON FeatureCollection (edrFeatureCollectionGeoJSON.yaml): each with its
    id, the EDR properties (`datetime` = the collection's temporal extent as start/end, "" without time;
    `parameter-name`; `label` = its name; `edrqueryendpoint` = its data URL) and a data link.

    `params` may hold `bbox` (locations intersecting it) and `datetime` (see list_time).
    """
    params = params or {}
    fs = store(registry, c)
    bboxes = list_bboxes(params.get("bbox"))
    when = list_time(params.get("datetime"), fs)
    _, found = fs.query(bboxes=bboxes, time=when)
    iv = c.axes.time_interval() if c.axes.t is not None else None
    period = f"{iv[0]}/{iv[1]}" if iv else ""
    features = []
    for fid, geom, props in found:
        if geom is None:
            continue
        name = _name(props, fid)
        features.append({
            "type": "Feature", "id": fid, "geometry": shapely.geometry.mapping(geom),
            # the EDR GeoJSON properties (edrProperties.yaml): data period, parameters, label, query URL
            "properties": {"datetime": period, "parameter-name": list(c.variables), "label": name,
                           "edrqueryendpoint": f"{href}/{fid}", "name": name, "query": KIND.get(geom.geom_type)},
            "links": [link(f"{href}/{fid}", "data", "application/prs.coverage+json", "data at this location")],
        })
    return {
        "type": "FeatureCollection", "features": features, "numberReturned": len(features),
        "links": [link(f"{href}?{urlencode(params)}" if params else href, "self", "application/geo+json",
                       "named locations"),
                  link(f"{base}/collections/{c.config.locations}", "related", "application/json", "source collection")],
    }


def resolve(registry: Registry, c: Collection, loc_id: str) -> tuple[str, Coords]:
    """(query type, coords) for a location id; 404 for an unknown id."""
    feature = store(registry, c).get(loc_id)
    if feature is None:
        raise NotFound(f"no location {loc_id!r}; see /collections/{c.id}/locations for the list", parameter="locationId")
    geom = feature.geometry
    kind = KIND.get(geom.geom_type) if geom is not None else None
    if kind is None:
        raise BadRequest(f"location {loc_id!r} has a {getattr(geom, 'geom_type', 'missing')} geometry that no EDR "
                         "query can use", parameter="locationId")
    return kind, Coords(geom=shapely.force_2d(geom), text=geom.wkt)


def answer(registry: Registry, c: Collection, loc_id: str, params: Mapping[str, str]) -> tuple[str, queries.Answer]:
    kind, coords = resolve(registry, c, loc_id)
    return kind, queries.QUERIES[kind](c, params, coords)
