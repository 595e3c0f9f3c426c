"""EDR named locations: the features of the Features collection named by `locations:` in the config.

A location's geometry decides the query it runs: a point is a position query, a
polygon an area query, a line a trajectory. Geometries are CRS84, as the FeatureStore keeps them.
"""

from __future__ import annotations

from typing import Mapping

import shapely

from ..context import link
from ..errors import BadRequest, NotFound
from ..query.wkt import Coords
from ..registry import Collection, Registry
from . import queries

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


def listing(registry: Registry, c: Collection, base: str, href: str) -> dict:
    """All locations as a GeoJSON FeatureCollection, each with its id, name and query link."""
    features = []
    for fid, geom, props in store(registry, c):
        if geom is None:
            continue
        features.append({
            "type": "Feature", "id": fid, "geometry": shapely.geometry.mapping(geom),
            "properties": {"name": _name(props, fid), "query": KIND.get(geom.geom_type),
                           "links": [link(f"{href}/{fid}", "data", "application/prs.coverage+json", "data at this location")]},
        })
    return {
        "type": "FeatureCollection", "features": features, "numberReturned": len(features),
        "links": [link(href, "self", "application/geo+json", "named locations"),
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
