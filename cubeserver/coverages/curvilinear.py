"""OGC API - Coverages on curvilinear grids (2-D latitude/longitude, index dimensions).

The coverage's own axes are the grid's index dimensions (e.g. `eta_rho`, `xi_rho`): the
domain set describes them as index axes (CIS 1.1 `IndexAxisType`, CRS `OGC/0/Index2D`),
never as longitude/latitude. What each request means:
- `subset=xi_rho(2:5)` (the dimension's own name, or the aliases x/y/i/j): index
  positions, inclusive, as `xarray.Dataset.isel` counts them;
- `subset=Lon(-70:-69),Lat(40:41)` (Lon/Long/Longitude, Lat/Latitude) and `bbox` (CRS84
  unless `bbox-crs`): the cells whose centres fall inside, as the smallest index window
  holding them with the other cells masked (null);
- NetCDF: that window with its 2-D latitude/longitude (CF `coordinates`);
- CoverageJSON: the selected cells as MultiPoint(Series), each with its own lon/lat
  (encode/covjson_cells.py);
- GeoTIFF and PNG: a nearest-neighbour regrid onto a regular lon/lat grid (grids/regrid.py);
- `scale-*` and `crs` other than CRS84/EPSG:4326: 400 (cells have no regular spacing to scale
  or warp; GeoTIFF is the regular lon/lat rendering).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr
from fastapi.responses import Response

from ..axes import CRS84, AxisModel, crs_uri
from ..context import json_response
from ..encode import geotiff, png
from ..encode.covjson_cells import window_coverage
from ..errors import BadRequest
from ..grids.curvilinear import lon_inside, wrap180
from ..grids.regrid import regrid
from ..negotiate import media_type
from ..query.parse import parse_number
from ..query.subset import AxisSubset
from ..select.core import compute
from ..select.curvilinear import mask_outside
from . import labels as L

PARAM = "subset"
INDEX_CRS = "http://www.opengis.net/def/crs/OGC/0/Index2D"
OGC_CRS = "http://www.opengis.net/def/crs/OGC/0/"


def is_degrees(sub: AxisSubset, axes: AxisModel) -> bool:
    """A Lon/Lat-style label (not the index dimension's own name): its values are degrees."""
    key = sub.axis.strip().lower()
    return key in L.DEGREE_ALIASES and key not in (axes.x.lower(), axes.y.lower())


# ---------------------------------------------------------------- selection

def _index_range(sub: AxisSubset, n: int, dim: str) -> np.ndarray:
    if sub.is_point:
        v = parse_number(sub.point, PARAM)
        if not float(v).is_integer() or not 0 <= v < n:
            raise BadRequest(f"{PARAM}: {sub.text()}: {dim} is a grid index axis; give a whole number 0..{n - 1}",
                             parameter=PARAM)
        return np.array([int(v)])
    lo = parse_number(sub.low, PARAM) if sub.low else 0
    hi = parse_number(sub.high, PARAM) if sub.high else n - 1
    if lo > hi:
        raise BadRequest(f"{PARAM}: {sub.text()} has its low end above its high end", parameter=PARAM)
    idx = np.arange(n)[(np.arange(n) >= lo) & (np.arange(n) <= hi)]
    if idx.size == 0:
        raise BadRequest(f"{PARAM}: {sub.text()} selects no {dim} index; {dim} is a grid index axis 0..{n - 1}",
                         parameter=PARAM)
    return idx


def lonlat_boxes(axes: AxisModel, req) -> list[tuple]:
    """The lon/lat constraints of a request: `bbox` (in `bbox-crs`) and Lon/Lat subsets, as (box, crs) pairs."""
    boxes = []
    if req.bbox is not None:
        boxes.append((tuple(req.bbox), req.bbox_crs))
    lon = lat = None
    for sub in req.subset:
        if not is_degrees(sub, axes):
            continue
        if sub.is_point:
            raise BadRequest(f"{PARAM}: {sub.text()}: on this curvilinear grid Lon/Lat take a range (low:high); "
                             "for the cell at a point use the EDR position query", parameter=PARAM)
        lo = parse_number(sub.low, PARAM) if sub.low else None
        hi = parse_number(sub.high, PARAM) if sub.high else None
        if L.resolve(axes, sub.axis, PARAM).kind == "x":
            lon = (lo if lo is not None else -180.0, hi if hi is not None else 180.0)
        else:
            lat = (lo if lo is not None else -90.0, hi if hi is not None else 90.0)
    if lon is not None or lat is not None:
        lon, lat = lon or (-180.0, 180.0), lat or (-90.0, 90.0)
        if lat[0] > lat[1]:
            raise BadRequest(f"{PARAM}: the Lat range {lat[0]:g}:{lat[1]:g} has its low end above its high end",
                             parameter=PARAM)
        boxes.append(((lon[0], lat[0], lon[1], lat[1]), req.subset_crs))
    return boxes


def subset_indices(axes: AxisModel, sx: AxisSubset | None, sy: AxisSubset | None, crs=None):
    """(iy, ix, None) for X/Y subsets: index ranges on the index dimensions; Lon/Lat ranges as a lon/lat box."""
    from ..select.core import bbox_indices

    ny, nx = axes.curvilinear.shape
    iy, ix = np.arange(ny), np.arange(nx)
    box = [-180.0, -90.0, 180.0, 90.0]
    degrees = False
    for sub, kind in ((sx, "x"), (sy, "y")):
        if sub is None:
            continue
        if is_degrees(sub, axes):
            degrees = True
            continue
        if kind == "x":
            ix = _index_range(sub, nx, axes.x)
        else:
            iy = _index_range(sub, ny, axes.y)
    if degrees:
        (box, crs), = lonlat_boxes(axes, _only_subsets(sx, sy, crs))
        jy, jx, _ = bbox_indices(axes, box, crs, PARAM)
        iy, ix = iy[np.isin(iy, jy)], ix[np.isin(ix, jx)]
        if iy.size == 0 or ix.size == 0:
            raise BadRequest(f"{PARAM}: the index and Lon/Lat subsets do not overlap", parameter=PARAM)
    return iy, ix, None


@dataclasses.dataclass
class _Subsets:
    subset: list
    bbox: tuple | None = None
    bbox_crs: object = None
    subset_crs: object = None


def _only_subsets(sx, sy, crs) -> _Subsets:
    return _Subsets([s for s in (sx, sy) if s is not None], subset_crs=crs)


def selection_mask(ds: xr.Dataset, axes: AxisModel, req) -> np.ndarray | None:
    """(y, x) of a selected window: True where the cell's own lon/lat lie in every lon/lat constraint."""
    boxes = lonlat_boxes(axes, req)
    if not boxes:
        return None
    g = axes.curvilinear
    lon, lat, valid = g.normalised(ds[g.lon_name].transpose(axes.y, axes.x).values,
                                   ds[g.lat_name].transpose(axes.y, axes.x).values)
    mask = valid.copy()
    for box, crs in boxes:
        minx, miny, maxx, maxy = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
        if crs is not None and not crs.is_geographic:
            from pyproj import Transformer

            minx, miny, maxx, maxy = Transformer.from_crs(crs, CRS84, always_xy=True).transform_bounds(
                minx, miny, maxx, maxy, densify_pts=21)
        west, east = (-180.0, 180.0) if maxx - minx >= 360 else (float(wrap180(minx)), float(wrap180(maxx)))
        mask &= (lat >= miny) & (lat <= maxy) & lon_inside(lon, west, east)
    return mask


def mask_selection(ds: xr.Dataset, axes: AxisModel, req) -> xr.Dataset:
    """The selected window with cells outside the lon/lat constraints nulled (lazy)."""
    mask = selection_mask(ds, axes, req)
    return ds if mask is None else mask_outside(ds, axes, mask)


def check_request(req, plan) -> None:
    """400 for what a curvilinear grid cannot do: scaling its cells, warping it to another CRS."""
    if plan:
        param = "scale-size" if req.scale_size else "scale-axes" if req.scale_axes else "scale-factor"
        raise BadRequest(f"{param}: this coverage is on a curvilinear grid (2-D latitude/longitude), whose cells "
                         "have no regular spacing to scale; subset it (index or Lon/Lat ranges) or ask f=geotiff/png, "
                         "which are regridded to regular lon/lat", parameter=param)
    if req.crs is not None and not (req.crs.equals(CRS84, ignore_axis_order=True)):
        raise BadRequest(f"crs: this coverage is on a curvilinear grid and is answered in lon/lat only "
                         f"({crs_uri(CRS84)}); GeoTIFF/PNG are regridded to regular lon/lat", parameter="crs")


# ---------------------------------------------------------------- description

def domainset(c) -> dict:
    """CIS 1.1 DomainSet: X/Y are index axes (IndexAxisType), other axes as for any coverage."""
    from .describe import _axis

    axes = L.coverage_axes(c.axes)
    extra = [f"{OGC_CRS}AnsiDate" if a.kind == "t" else f"{OGC_CRS}Index1D" for a in axes[2:]]
    srs = INDEX_CRS if not extra else "http://www.opengis.net/def/crs-compound?" + "&".join(
        f"{i}={p}" for i, p in enumerate([INDEX_CRS, *extra], 1))
    described = []
    for a in axes:
        if a.kind in ("x", "y"):
            described.append({"type": "IndexAxisType", "axisLabel": a.label, "lowerBound": 0,
                              "upperBound": int(c.ds.sizes[a.dim]) - 1})
        else:
            described.append(_axis(c, a))
    index_labels = [chr(ord("i") + k) for k in range(len(axes))]
    return {
        "type": "DomainSetType",
        "generalGrid": {
            "type": "GeneralGridType",
            "srsName": srs,
            "axisLabels": [a.label for a in axes],
            "axis": described,
            "gridLimits": {
                "type": "GridLimitsType",
                "srsName": f"{OGC_CRS}Index{len(axes)}D",
                "axisLabels": index_labels,
                "axis": [{"type": "IndexAxisType", "axisLabel": lab, "lowerBound": 0,
                          "upperBound": int(c.ds.sizes[a.dim]) - 1} for lab, a in zip(index_labels, axes)],
            },
        },
    }


# ---------------------------------------------------------------- formats other than NetCDF

def render(c, req, fmt: str, max_cells: int, name: str, cog: bool = False):
    """CoverageJSON (cells with their lon/lat), GeoTIFF or PNG (regridded to regular lon/lat) of a curvilinear coverage."""
    from .request import build

    disposition = {"Content-Disposition": f'inline; filename="{name}"'}
    if fmt == "covjson":
        sel = build(c, req, max_cells)
        ds = compute(sel.ds)
        doc = window_coverage(ds, sel.axes, selection_mask(ds, sel.axes, req))
        return json_response(doc, media_type=media_type("covjson"), headers=disposition)
    if fmt == "geotiff":
        sel = build(c, req, max_cells, image=True)
        nbands = max(1, sum(int(np.prod([v.sizes[d] for d in v.dims if d not in (c.axes.x, c.axes.y)]))
                            for v in sel.ds.data_vars.values()))
        ds = compute(sel.ds)
        out, axes = regrid(ds, sel.axes, selection_mask(ds, sel.axes, req), max(1, max_cells // nbands))
        return geotiff.geotiff_response(out, axes, name, cog=True if cog else None)
    field = (req.properties or c.variables)[0]
    sel = build(c, dataclasses.replace(req, properties=[field]), max_cells, image=True)
    ds = compute(sel.ds)
    out, axes = regrid(ds, sel.axes, selection_mask(ds, sel.axes, req), png.MAX_SIDE ** 2)
    from ..render import find_style

    return Response(png.render_png(out[field], axes, find_style(c, field, None)), media_type=png.MEDIA_TYPE,
                    headers=disposition)
