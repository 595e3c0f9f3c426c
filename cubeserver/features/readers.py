"""Read a vector file once into plain Python: source ids, shapely geometries in CRS84, property dicts.

GeoJSON is parsed with orjson (no GDAL round trip, so numbers, nulls and ids
stay exactly as written); GeoPackage, Shapefile and FlatGeobuf go through
pyogrio. Either way the output is reprojected to CRS84 (lon/lat), the only
CRS the store indexes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import shape

CRS84 = CRS.from_user_input("OGC:CRS84")


@dataclass
class Loaded:
    source_ids: list  # GeoJSON `id` or OGR FID per feature, None where absent
    geometries: list  # shapely geometries (CRS84) or None
    properties: list[dict]
    field_types: dict[str, str] = field(default_factory=dict)  # declared JSON types (OGR sources)


def read(path: Path) -> Loaded:
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path.name}: file not found")
    if path.suffix.lower() in (".geojson", ".json"):
        return read_geojson(path)
    return read_ogr(path)


def read_geojson(path: Path) -> Loaded:
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise ValueError(f"{path.name}: not valid JSON ({e})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path.name}: not a GeoJSON object")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        feats = doc.get("features") or []
    elif kind == "Feature":
        feats = [doc]
    else:
        raise ValueError(f"{path.name}: expected a GeoJSON FeatureCollection or Feature, got type {kind!r}")
    ids, geoms, props = [], [], []
    for i, f in enumerate(feats):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            raise ValueError(f"{path.name}: features[{i}] is not a GeoJSON Feature")
        g = f.get("geometry")
        try:
            geoms.append(shape(g) if g else None)
        except Exception as e:  # shapely raises several types for bad coordinates
            raise ValueError(f"{path.name}: features[{i}].geometry is invalid ({e})") from None
        ids.append(f.get("id"))
        props.append(dict(f.get("properties") or {}))
    return Loaded(ids, _to_crs84(geoms, _legacy_crs(doc, path)), props)


def _legacy_crs(doc: dict, path: Path) -> CRS | None:
    """GeoJSON 2008 `crs` member: honoured so old files in e.g. EPSG:3857 still land in lon/lat."""
    name = ((doc.get("crs") or {}).get("properties") or {}).get("name")
    if not name:
        return None
    try:
        return CRS.from_user_input(name)
    except Exception:
        raise ValueError(f"{path.name}: unknown crs {name!r}") from None


def read_ogr(path: Path) -> Loaded:
    import pyogrio
    import pyogrio.raw

    try:
        meta, fids, wkb, arrays = pyogrio.raw.read(path, return_fids=True, datetime_as_string=True)
    except Exception as e:  # pyogrio.errors.DataSourceError and friends
        raise ValueError(f"{path.name}: cannot read with GDAL ({e})") from None
    geoms = list(shapely.from_wkb(wkb)) if wkb is not None else [None] * len(fids)
    crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    names = [str(n) for n in meta["fields"]]
    ogr_types = meta.get("ogr_types") or ["OFTString"] * len(names)
    subtypes = meta.get("ogr_subtypes") or ["OFSTNone"] * len(names)
    columns = [_column(a, t, s) for a, t, s in zip(arrays, ogr_types, subtypes)]
    props = [dict(zip(names, row)) for row in zip(*columns)] if names else [{} for _ in fids]
    types = {n: _json_type(t, s) for n, t, s in zip(names, ogr_types, subtypes)}
    return Loaded([int(f) for f in fids], _to_crs84(geoms, crs), props, {k: v for k, v in types.items() if v})


def _column(values: np.ndarray, ogr_type: str, subtype: str) -> list:
    """Numpy column -> Python values; pyogrio reports nulls in numeric columns as NaN."""
    out = values.tolist()
    if ogr_type in ("OFTInteger", "OFTInteger64"):
        cast = bool if subtype == "OFSTBoolean" else int
        return [None if v is None or (isinstance(v, float) and math.isnan(v)) else cast(v) for v in out]
    if ogr_type == "OFTReal":
        return [None if v is None or math.isnan(v) else float(v) for v in out]
    return [v.tolist() if isinstance(v, np.ndarray) else v for v in out]


def _json_type(ogr_type: str, subtype: str) -> str | None:
    if ogr_type in ("OFTInteger", "OFTInteger64"):
        return "boolean" if subtype == "OFSTBoolean" else "integer"
    if ogr_type == "OFTReal":
        return "number"
    if ogr_type in ("OFTString", "OFTDate", "OFTDateTime", "OFTTime"):
        return "string"
    return None


def _to_crs84(geoms: list, crs: CRS | None) -> list:
    if crs is None or crs.equals(CRS84, ignore_axis_order=True):
        return geoms
    tr = Transformer.from_crs(crs, CRS84, always_xy=True)
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    present = np.array([g is not None for g in geoms], dtype=bool)
    if present.any():
        arr[present] = shapely.transform(arr[present], lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return list(arr)
