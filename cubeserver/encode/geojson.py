"""GeoJSON for point-type answers: one Point feature per cell × time × level, values as properties.

A flat feature per row (rather than arrays inside properties) is what GIS tools and
geopandas read directly. The answer is an EDR GeoJSON FeatureCollection (EDR 1.1
/req/edr-geojson/content, edrFeatureCollectionGeoJSON.yaml): every feature's properties carry
the EDR members `datetime` (the row's time, "" without a time axis), `parameter-name`, `label`
and `edrqueryendpoint` besides the values; `parameters` is the array of EDR parameter objects
and `links` the foreign members the requirement names. NaN becomes null.
"""

from __future__ import annotations

import math

import numpy as np
import orjson

MEDIA_TYPE = "application/geo+json"


def _plain(col: np.ndarray) -> list:
    """Column as Python values, NaN -> None (numbers are converted once, not per feature)."""
    if col.dtype.kind == "f":
        if col.dtype.itemsize < 8:  # float32 keeps its short repr (13.119286, not 13.119285583496094)
            return orjson.loads(orjson.dumps(np.ascontiguousarray(col), option=orjson.OPT_SERIALIZE_NUMPY))
        return [None if math.isnan(v) else v for v in col.tolist()]
    return col.tolist()


def parameter_list(parameters: dict | None) -> list[dict]:
    """EDR GeoJSON `parameters`: an array of parameter objects, each with its `id` (the name)."""
    return [{"id": name, **p} for name, p in (parameters or {}).items()]


def feature_collection(columns: dict[str, np.ndarray], parameters: dict | None = None,
                       links: list | None = None, endpoint: str = "") -> dict:
    """EDR GeoJSON FeatureCollection from table columns (x, y first, then any property columns).

    `parameters`: CovJSON-style {name: Parameter}; their names are each feature's `parameter-name`.
    `endpoint`: the query URL, each feature's `edrqueryendpoint`.
    """
    xs, ys = columns["x"].tolist(), columns["y"].tolist()
    names = [k for k in columns if k not in ("x", "y")]
    props = [_plain(columns[k]) for k in names]
    pnames = list(parameters or {})
    timed = "datetime" in columns
    features = []
    for i, (x, y, *vals) in enumerate(zip(xs, ys, *props)):
        p = dict(zip(names, vals))
        if not timed:
            p["datetime"] = ""
        p["parameter-name"] = pnames
        p["label"] = f"cell at {x:.10g} {y:.10g}"
        p["edrqueryendpoint"] = endpoint
        features.append({"type": "Feature", "id": i, "geometry": {"type": "Point", "coordinates": [x, y]},
                         "properties": p})
    out = {"type": "FeatureCollection", "features": features, "numberReturned": len(features)}
    if parameters:
        out["parameters"] = parameter_list(parameters)
    if links:
        out["links"] = links
    return out
