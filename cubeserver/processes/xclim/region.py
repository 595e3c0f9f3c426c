"""The `polygon` input: cells whose centres fall inside a GeoJSON (Multi)Polygon in CRS84, others null.

The same cell rule and window as an EDR area query (`select.geometry.polygon_cells`,
`edr.queries.window`/`mask_grid`), applied to the process's lazy selection.
"""

from __future__ import annotations

import xarray as xr

from ...errors import BadRequest

POLYGON = {
    "title": "Polygon",
    "description": "GeoJSON Polygon or MultiPolygon in CRS84 (lon/lat): only cells whose centres lie inside are computed, "
                   "the others are null (as an EDR area query). Not together with bbox",
    "schema": {"type": "object", "required": ["type", "coordinates"], "properties": {
        "type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
        "coordinates": {"type": "array", "minItems": 1}}},
}


def geometry(value: dict):
    """The shapely geometry of a GeoJSON (Multi)Polygon; 400 naming `polygon` when it is not one."""
    from shapely.geometry import shape

    try:
        geom = shape(value)
    except Exception:  # noqa: BLE001 - shapely raises several kinds for bad coordinates
        raise BadRequest("polygon: not a GeoJSON Polygon/MultiPolygon ([[[lon, lat], ...]] rings)", parameter="polygon") from None
    if geom.is_empty or not geom.is_valid:
        raise BadRequest("polygon: empty or invalid (self-intersecting) polygon", parameter="polygon")
    return geom


def cells(collection, value: dict | None, bbox):
    """The polygon's cells (`select.geometry.Cells`), or None without a polygon; 400s name `polygon`."""
    if not value:
        return None
    if bbox is not None:
        raise BadRequest("polygon: give either bbox or polygon, not both", parameter="polygon")
    from ...select.geometry import polygon_cells

    return polygon_cells(collection.axes, geometry(value), None, "polygon")


def apply(collection, ds: xr.Dataset, found) -> xr.Dataset:
    """`ds` (selected without bbox) windowed to the polygon's cells and nulled outside it (lazy)."""
    if found is None:
        return ds
    from ...edr.queries import mask_grid, window

    return mask_grid(ds.isel(window(collection, found)), collection, found)


def remask(collection, out: xr.Dataset, found) -> xr.Dataset:
    """Null the result outside the polygon again: sums and counts of null input read 0, not null."""
    if found is None or found.full:
        return out
    ax = collection.axes
    keep = xr.DataArray(found.mask, dims=(ax.y, ax.x))
    return out.assign({n: v.where(keep) for n, v in out.data_vars.items() if {ax.y, ax.x} <= set(v.dims)})
