"""GeoJSON for point-type answers: one Point feature per cell × time × level, values as properties.

A flat feature per row (rather than arrays inside properties) is what GIS tools and
geopandas read directly; `parameters` (CovJSON-style metadata) rides along as a
foreign member, as EDR-GeoJSON allows. NaN becomes null.
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


def feature_collection(columns: dict[str, np.ndarray], parameters: dict | None = None,
                       links: list | None = None) -> dict:
    """FeatureCollection from table columns (x, y first, then any property columns)."""
    xs, ys = columns["x"].tolist(), columns["y"].tolist()
    names = [k for k in columns if k not in ("x", "y")]
    props = [_plain(columns[k]) for k in names]
    features = [
        {"type": "Feature", "id": i, "geometry": {"type": "Point", "coordinates": [x, y]},
         "properties": dict(zip(names, vals))}
        for i, (x, y, *vals) in enumerate(zip(xs, ys, *props))
    ]
    out = {"type": "FeatureCollection", "features": features, "numberReturned": len(features)}
    if parameters:
        out["parameters"] = parameters
    if links:
        out["links"] = links
    return out
