"""GeoJSON and JSON Schema documents with the links clients (GDAL, OWSLib, QGIS) navigate by."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

import numpy as np
import shapely
from shapely.geometry import mapping

from ..context import link
from .query import CRS84_URI, EPSG4326_URI, ItemsQuery, filterable
from .store import Feature, FeatureStore

GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"


def _swap_xy(geom):
    return shapely.transform(geom, lambda xy: np.ascontiguousarray(xy[:, ::-1]))


def geometry_json(geom, crs: str = CRS84_URI):
    if geom is None:
        return None
    if crs == EPSG4326_URI:  # EPSG:4326 is latitude first
        geom = _swap_xy(geom)
    return mapping(geom)


def feature_json(f: Feature, crs: str = CRS84_URI) -> dict:
    return {"type": "Feature", "id": f.id, "geometry": geometry_json(f.geometry, crs), "properties": f.properties}


def _url(path: str, params: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def _params_with(params: list[tuple[str, str]], **changes) -> list[tuple[str, str]]:
    """The request's parameters with some replaced (value None drops the parameter)."""
    out = [(k, v) for k, v in params if k not in changes]
    out += [(k, str(v)) for k, v in changes.items() if v is not None]
    return out


def page_links(path: str, params: list[tuple[str, str]], q: ItemsQuery, returned: int, matched: int,
               f: str = "geojson") -> dict[str, str]:
    """next/prev hrefs keeping every other parameter; absent at either end of the result."""
    out = {}
    if q.offset + returned < matched:
        out["next"] = _url(path, _params_with(params, f=f, offset=q.offset + returned, limit=q.limit))
    if q.offset > 0:
        out["prev"] = _url(path, _params_with(params, f=f, offset=max(0, q.offset - q.limit), limit=q.limit))
    return out


def items_json(cid: str, base: str, params: list[tuple[str, str]], q: ItemsQuery,
               matched: int, page: list[Feature]) -> dict:
    path = f"{base}/collections/{cid}/items"
    links = [
        link(_url(path, _params_with(params, f="geojson")), "self", GEOJSON, "this page as GeoJSON"),
        link(_url(path, _params_with(params, f="html")), "alternate", "text/html", "this page as HTML"),
        link(f"{base}/collections/{cid}", "collection", "application/json", "the collection"),
    ]
    for rel, href in page_links(path, params, q, len(page), matched).items():
        links.append(link(href, rel, GEOJSON, f"{rel} page"))
    return {
        "type": "FeatureCollection",
        "features": [feature_json(f, q.crs) for f in page],
        "numberMatched": matched,
        "numberReturned": len(page),
        "timeStamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
    }


def item_json(f: Feature, cid: str, base: str, crs: str) -> dict:
    href = f"{base}/collections/{cid}/items/{f.id}"
    doc = feature_json(f, crs)
    doc["links"] = [
        link(f"{href}?f=geojson", "self", GEOJSON, "this feature as GeoJSON"),
        link(f"{href}?f=html", "alternate", "text/html", "this feature as HTML"),
        link(f"{base}/collections/{cid}", "collection", "application/json", "the collection"),
        link(f"{base}/collections/{cid}/items?f=geojson", "items", GEOJSON, "all features"),
    ]
    return doc


_GEOMETRY_FORMATS = {
    "Point": "geometry-point", "MultiPoint": "geometry-multipoint", "LineString": "geometry-linestring",
    "MultiLineString": "geometry-multilinestring", "Polygon": "geometry-polygon",
    "MultiPolygon": "geometry-multipolygon",
}


def queryables_json(store: FeatureStore, cid: str, base: str, title: str) -> dict:
    """JSON Schema (Part 3): the geometry for information, then the properties usable as filters."""
    href = f"{base}/collections/{cid}/queryables"
    props = {"geometry": {"title": "geometry", "format": _GEOMETRY_FORMATS.get(store.geometry_type(), "geometry-any"),
                          "x-ogc-role": "primary-geometry", "description": "filter with bbox"}}
    props.update(filterable(store))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": href,
        "type": "object",
        "title": f"{title} queryables",
        "description": "Each property except geometry can be used as an equality filter: items?name=value",
        "properties": props,
        "additionalProperties": False,
        "links": [
            link(f"{href}?f=json", "self", SCHEMA_JSON, "this document"),
            link(f"{href}?f=html", "alternate", "text/html", "this document as HTML"),
            link(f"{base}/collections/{cid}", "collection", "application/json", "the collection"),
        ],
    }
