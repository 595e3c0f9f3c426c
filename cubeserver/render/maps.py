"""render_map and map_values: one MapRequest -> an image / the (height, width) values behind it."""

from __future__ import annotations

import numpy as np

from ..errors import NotFound
from . import cache, draw, slice as slicing, warp
from .palette import find_style
from .request import MapRequest, check


def _gridded(collection):
    if collection.ds is None:
        raise NotFound(f"collection {collection.id!r} is a Features collection: it has no map", parameter="collectionId")


def map_values(collection, req: MapRequest) -> np.ndarray:
    """(height, width) float64 values of the map, north row first, NaN for nodata and outside the grid.

    Raises BadRequest naming properties / datetime / subset / bbox / crs / width / height, NotFound for
    a Features collection.
    """
    _gridded(collection)
    dst = check(req)
    ax = collection.axes
    index = slicing.indices(collection, req.parameter, req.datetime, req.subset)
    lk = warp.cached_lookup(ax, dst, str(req.crs), req.bbox, req.width, req.height, req.resampling == "bilinear")
    field = cache.field(collection, req.parameter, index)
    if field is None:  # a large field: read only the window the pixels hit
        field = collection.ds[req.parameter].isel(index).transpose(ax.y, ax.x)
    return warp.sample(field, lk, req.height, req.width)


def render_map(collection, req: MapRequest) -> bytes:
    """The map as PNG / JPEG / WebP bytes, coloured by the request's style (404 for an unknown style)."""
    _gridded(collection)
    check(req)
    style = find_style(collection, req.parameter, req.style, req.subset)
    values = map_values(collection, req)
    return draw.image(values, style, req)
