"""Encode an Answer: guard its size, compute it once, write CoverageJSON, NetCDF, GeoJSON or CSV."""

from __future__ import annotations

import numpy as np
import xarray as xr
from starlette.responses import Response

from ..axes import CRS84, crs_uri
from ..context import json_response
from ..errors import TooLarge
from ..encode import covjson
from ..encode.covjson_cells import window_coverage
from ..encode.covjson_points import path_coverage, points_coverage
from ..encode.csv import csv_response
from ..encode.geojson import MEDIA_TYPE as GEOJSON
from ..encode.geojson import feature_collection
from ..encode.netcdf import netcdf_response, with_grid_mapping
from ..registry import Collection
from ..select.core import compute, guard_size
from ..memory import trim_after
from .queries import GRID, PATH, POINTS, Answer
from ..encode.covjson_stream import stream_grid, streamable
from .table import columns

POINT_FORMATS = ["covjson", "netcdf", "netcdf4", "geojson", "csv"]
GRID_FORMATS = ["covjson", "netcdf", "netcdf4"]
FORMATS = {"position": POINT_FORMATS, "radius": POINT_FORMATS, "trajectory": POINT_FORMATS,
           "corridor": POINT_FORMATS, "locations": POINT_FORMATS, "area": GRID_FORMATS, "cube": GRID_FORMATS}
NAMES = {"covjson": "CoverageJSON", "netcdf": "NetCDF", "netcdf4": "NetCDF4", "geojson": "GeoJSON", "csv": "CSV"}
TABLE_MAX_ROWS = 1_000_000  # a row per cell × time × level: beyond this GeoJSON/CSV are the wrong tool


def table_rows(answer: Answer) -> int:
    """Rows a GeoJSON/CSV answer would have, known before reading anything."""
    size = max((v.size for v in answer.ds.data_vars.values()), default=0)
    if answer.kind == GRID and answer.cells is not None:
        size = int(size * answer.cells.mask.mean())
    return size


def _guard_table(answer: Answer, fmt: str) -> None:
    rows = table_rows(answer)
    if rows > TABLE_MAX_ROWS:
        raise TooLarge(f"f={fmt}: the answer would have {rows:,} rows (one per cell, time and level), more than "
                       f"{TABLE_MAX_ROWS:,}; ask for CoverageJSON or NetCDF, or narrow the query")


def coverage_json(ds: xr.Dataset, c: Collection, answer: Answer) -> dict:
    if answer.kind == POINTS:
        return points_coverage(ds, c.axes, answer.xs, answer.ys, answer.query.out_crs, answer.single)
    if answer.kind == PATH:
        return path_coverage(ds, c.axes, answer.xs, answer.ys, answer.query.out_crs)
    if c.axes.curvilinear is not None:  # 2-D lat/lon: the selected cells, each at its own lon/lat
        return window_coverage(ds, c.axes, answer.cells.mask)
    return covjson.grid(ds, c.axes)


def for_netcdf(answer: Answer, c: Collection) -> xr.Dataset:
    """The lazy answer with a CF featureType for point answers (grids stay plain grids) and the
    CF grid mapping of its x/y (`encode.netcdf.with_grid_mapping`)."""
    ax = c.axes
    ds = with_grid_mapping(answer.ds, ax.crs)
    if answer.kind == PATH:
        ds = ds.assign_attrs(featureType="trajectory")
    elif answer.kind == POINTS:
        series = ax.t in ds.dims and ds.sizes[ax.t] > 1
        profile = ax.z is not None and ax.z in ds.dims and ds.sizes[ax.z] > 1
        kind = "timeSeriesProfile" if series and profile else "timeSeries" if series else "profile" if profile else "point"
        ds = ds.assign_attrs(featureType=kind)
    return ds


def _geojson_in_lonlat(c: Collection, answer: Answer) -> None:
    """GeoJSON is lon/lat (RFC 7946 section 4): without an explicit `crs`, answers on rotated or
    projected grids give their cells' centres in CRS84 (in place, before encoding)."""
    if answer.query.out_crs is not None or c.axes.lonlat:
        return
    if answer.xs is not None:
        answer.xs, answer.ys = (np.asarray(v) for v in c.axes.to_crs84.transform(
            np.asarray(answer.xs, dtype="float64"), np.asarray(answer.ys, dtype="float64"), errcheck=False))
    answer.query.out_crs = CRS84


def render(c: Collection, answer: Answer, fmt: str, name: str, max_cells: int, endpoint: str = "") -> Response:
    """Answer -> HTTP response in `fmt` with a Content-Crs header; runs in a worker thread (reads data).

    `endpoint`: the request URL (GeoJSON's `edrqueryendpoint` and self link)."""
    if fmt == "geojson":
        _geojson_in_lonlat(c, answer)
    response = _render(c, answer, fmt, name, max_cells, endpoint)
    # grids in CoverageJSON/NetCDF stay on the native grid; tables and points are written in `crs`
    tabular = answer.kind != GRID or fmt in ("geojson", "csv")
    crs = answer.query.out_crs if tabular and answer.query.out_crs is not None else c.axes.crs
    response.headers["Content-Crs"] = f"<{crs_uri(crs)}>"
    return trim_after(response)


def _render(c: Collection, answer: Answer, fmt: str, name: str, max_cells: int, endpoint: str = "") -> Response:
    guard_size(answer.ds, max_cells)
    if fmt in ("geojson", "csv"):
        _guard_table(answer, fmt)
    filename = f"{c.id}-{name}"
    if fmt in ("netcdf", "netcdf4"):
        return netcdf_response(for_netcdf(answer, c), f"{filename}.nc", netcdf4=fmt == "netcdf4")
    if fmt == "covjson" and answer.kind == GRID and streamable(answer.ds, c.axes):
        return stream_grid(answer.ds, c.axes)  # millions of values: read, encode and send slab by slab
    ds = compute(answer.ds)
    if fmt == "covjson":
        return json_response(coverage_json(ds, c, answer), media_type=covjson.MEDIA_TYPE)
    cols, geographic = columns(ds, c, answer)
    if fmt == "geojson":
        links = [{"href": endpoint, "rel": "self", "type": GEOJSON, "title": "this answer"}] if endpoint else None
        return json_response(feature_collection(cols, covjson.parameters(ds), links, endpoint), media_type=GEOJSON)
    x_name, y_name = ("longitude", "latitude") if geographic else ("x", "y")
    return csv_response(cols, f"{filename}.csv", x_name, y_name)


__all__ = ["FORMATS", "NAMES", "GRID", "render"]
