"""FeatureStore: one vector file held in memory with a spatial index, shared by every standard.

Loaded once at start: Features serves items from it, EDR uses it for named
locations and the zonal-statistics process iterates it. Other modules should only
need `get(id)`, iteration (`for fid, geom, props in store`), `ids`, `geometries`
and `tree` (a shapely STRtree over `geometries`, positions = index in `ids`).

Feature ids are strings and stable across restarts, chosen once per file:
  1. the configured `id_property`, if every feature has a value and they are unique;
  2. else the GeoJSON `id` member / the OGR FID, if present on all and unique;
  3. else the 0-based position in the file.
A configured `id_property` that cannot be used is logged as a warning and the next
rule applies, rather than refusing to start the whole server. `id_source` says
which rule won.

Geometries are in CRS84 (lon/lat); the readers reproject anything else.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np
import shapely
from shapely import STRtree

from . import times
from .readers import Loaded, read

log = logging.getLogger("cubeserver")

GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
WORLD = (-180.0, -90.0, 180.0, 90.0)
SCALARS = ("string", "integer", "number", "boolean")


class Feature(NamedTuple):
    """Unpacks as (id, geometry, properties); geometry is shapely (CRS84) or None."""

    id: str
    geometry: object
    properties: dict


class FeatureStore:
    def __init__(self, loaded: Loaded, id_property: str | None = None, time_property: str | None = None,
                 name: str = "features"):
        self.name = name
        self.geometries = list(loaded.geometries)
        self.properties = loaded.properties
        self.ids, self.id_source = _choose_ids(loaded, id_property, name)
        self._pos = {fid: i for i, fid in enumerate(self.ids)}
        self.property_names = list(dict.fromkeys(k for p in self.properties for k in p))
        for k in loaded.field_types:
            if k not in self.property_names:
                self.property_names.append(k)
        self.fields = _field_types(self.properties, self.property_names, loaded.field_types)
        arr = np.empty(len(self.geometries), dtype=object)
        arr[:] = self.geometries
        self.tree = STRtree(arr)  # None geometries are simply not indexed
        self.bbox = _bbox(arr)
        self.time_property = time_property
        self._times = None
        if time_property:
            if time_property not in self.property_names:
                log.warning("%s: time_property %r is not a property of any feature; datetime queries are disabled",
                            name, time_property)
                self.time_property = None
            else:
                self._times = [times.value_range(p.get(time_property)) for p in self.properties]

    @classmethod
    def open(cls, path, id_property: str | None = None, time_property: str | None = None) -> "FeatureStore":
        """Read GeoJSON (orjson) or GeoPackage/Shapefile/FlatGeobuf (pyogrio); ValueError if unreadable."""
        path = Path(path)
        return cls(read(path), id_property=id_property, time_property=time_property, name=path.name)

    # -- access ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[Feature]:
        return (self.feature(i) for i in range(len(self.ids)))

    def __contains__(self, feature_id) -> bool:
        return str(feature_id) in self._pos

    def feature(self, i: int) -> Feature:
        return Feature(self.ids[i], self.geometries[i], self.properties[i])

    def get(self, feature_id) -> Feature | None:
        """The feature with this id, or None (callers raise their own 404 naming their parameter)."""
        i = self._pos.get(str(feature_id))
        return None if i is None else self.feature(i)

    @property
    def has_time(self) -> bool:
        return self._times is not None

    def temporal_extent(self) -> dict:
        ranges = [r for r in self._times or () if r is not None]
        if not ranges:
            return {}
        start = min(r[0] for r in ranges)
        end = max(r[1] for r in ranges)
        return {"temporal": {"interval": [[times.iso(start), times.iso(end)]], "trs": GREGORIAN}}

    def queryables(self) -> dict[str, dict]:
        """Property name -> JSON schema, for the scalar properties usable as `?name=value` filters."""
        out = {}
        for name, kind in self.fields.items():
            if kind not in SCALARS:
                continue
            schema = {"title": name, "type": kind}
            if name == self.time_property:
                schema["format"] = "date-time"
            out[name] = schema
        return out

    def geometry_type(self) -> str | None:
        kinds = {g.geom_type for g in self.geometries if g is not None}
        return kinds.pop() if len(kinds) == 1 else None

    # -- queries --------------------------------------------------------------
    def coerce(self, name: str, raw: str):
        """A filter value parsed for the property's type; ValueError when it cannot match that type."""
        kind = self.fields.get(name)
        if kind in ("integer", "number"):
            value = float(raw)
            if math.isnan(value):
                raise ValueError(f"{raw!r} is not a number")
            return value
        if kind == "boolean":
            low = raw.strip().lower()
            if low not in ("true", "false", "1", "0"):
                raise ValueError(f"{raw!r} is not true or false")
            return low in ("true", "1")
        return raw

    def query(self, *, bboxes: list[tuple] | None = None, time: times.Range | None = None,
              filters: dict | None = None, offset: int = 0, limit: int | None = None,
              properties: list[str] | None = None, unlocated_match: bool = False) -> tuple[int, list[Feature]]:
        """(number matched, the page) in file order.

        bboxes: CRS84 (minx, miny, maxx, maxy) boxes, a feature matches if it intersects any
        (two boxes express an antimeridian crossing); time: a times.Range; filters: name ->
        value from `coerce`; properties: names to keep in the returned features.
        unlocated_match: features without a geometry match any bbox and features without a
        (readable) time match any datetime, as OGC API - Features /req/core/fc-bbox-response C and
        /req/core/fc-time-response C require; EDR locations keep only located, timed features.
        """
        if bboxes:
            hits = set()
            for b in bboxes:
                hits.update(self.tree.query(shapely.box(*b), predicate="intersects").tolist())
            if unlocated_match:
                hits.update(i for i, g in enumerate(self.geometries) if g is None or g.is_empty)
            candidates = sorted(hits)
        else:
            candidates = range(len(self.ids))
        if time is not None and self._times is None:
            raise ValueError("this collection has no time property")
        checks = [(k, self.fields.get(k), v) for k, v in (filters or {}).items()]
        matched = 0
        page = []
        stop = None if limit is None else offset + limit
        for i in candidates:
            if time is not None and (self._times[i] is None and not unlocated_match
                                     or self._times[i] is not None and not times.overlaps(self._times[i], time)):
                continue
            props = self.properties[i]
            if any(not _equal(props.get(k), kind, v) for k, kind, v in checks):
                continue
            if offset <= matched and (stop is None or matched < stop):
                page.append(self._selected(i, properties))
            matched += 1
        return matched, page

    def _selected(self, i: int, properties: list[str] | None) -> Feature:
        f = self.feature(i)
        if properties is None:
            return f
        return f._replace(properties={k: f.properties.get(k) for k in properties})


def _equal(actual, kind: str | None, wanted) -> bool:
    if actual is None:
        return False
    if kind in ("integer", "number"):
        return isinstance(actual, (int, float)) and not isinstance(actual, bool) and float(actual) == wanted
    if kind == "boolean":
        return isinstance(actual, bool) and actual == wanted
    if isinstance(actual, str):
        return actual == wanted
    return _text(actual) == wanted  # mixed-type property: compare as it prints in JSON


def _text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _id_text(v) -> str | None:
    if v is None or isinstance(v, (dict, list)):
        return None
    return _text(v)


def _unique(values: list) -> list[str] | None:
    texts = [_id_text(v) for v in values]
    if any(t is None or t == "" for t in texts) or len(set(texts)) != len(texts):
        return None
    return texts


def _choose_ids(loaded: Loaded, id_property: str | None, name: str) -> tuple[list[str], str]:
    if id_property:
        values = [p.get(id_property) for p in loaded.properties]
        ids = _unique(values)
        if ids is not None:
            return ids, f"property:{id_property}"
        missing = sum(_id_text(v) in (None, "") for v in values)
        why = f"missing on {missing} of {len(values)} features" if missing else "not unique"
        log.warning("%s: id_property %r is %s; using the file's own ids instead", name, id_property, why)
    ids = _unique(loaded.source_ids)
    if ids is not None:
        return ids, "source"
    return [str(i) for i in range(len(loaded.properties))], "index"


_PY_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


def _field_types(properties: list[dict], names: list[str], declared: dict[str, str]) -> dict[str, str]:
    """JSON type per property: declared by the format (OGR) or seen in the values (GeoJSON)."""
    seen: dict[str, set] = {n: set() for n in names}
    for p in properties:
        for k, v in p.items():
            if v is not None:
                seen[k].add(_PY_TYPES.get(type(v), "string"))
    out = {}
    for n in names:
        kinds = seen[n]
        if n in declared:
            out[n] = declared[n]
        elif len(kinds) == 1:
            out[n] = kinds.pop()
        elif kinds == {"integer", "number"}:
            out[n] = "number"
        elif kinds & {"array", "object"}:
            out[n] = "object"
        else:
            out[n] = "string"  # all null, or mixed scalars compared as text
    return out


def _bbox(geoms: np.ndarray) -> tuple[float, float, float, float]:
    if not len(geoms):
        return WORLD
    b = shapely.total_bounds(geoms)
    if not np.all(np.isfinite(b)):
        return WORLD
    return tuple(float(v) for v in b)
