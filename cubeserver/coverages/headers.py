"""Content-Crs, Content-Bbox and Content-Datetime of a coverage answer.

OGC API - Coverages (draft) /req/core/response-headers: the CRS of the answer (when not CRS84),
its actual spatial extent in that CRS (cell edges, four numbers in the CRS's own axis order,
so latitude first for EPSG:4326) and its temporal extent (one instant, or `start/end`), the
latter only on Gregorian calendars ("if expressible in RFC 3339": a 360_day Feb 30 is not).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..axes import CRS84, AxisModel, crs_uri, iso_times


def _edges(values: np.ndarray) -> tuple[float, float]:
    """Outer cell edges of a 1-D coordinate (half a step beyond the first and last centres)."""
    v = np.asarray(values, dtype="float64")
    if v.size == 0:
        return float("nan"), float("nan")
    if v.size == 1:
        return float(v[0]), float(v[0])
    lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
    half = abs(float(v[1] - v[0])) / 2
    return lo - half, hi + half


def _north_first(crs) -> bool:
    info = getattr(crs, "axis_info", None) or []
    return len(info) >= 2 and info[0].direction.lower() in ("north", "south")


def content_headers(ds: xr.Dataset, axes: AxisModel) -> dict[str, str]:
    """The three headers for a selection `ds` on `axes` (absent members are left out)."""
    out: dict[str, str] = {}
    if not (axes.crs == CRS84 or axes.crs.equals(CRS84)):
        out["Content-Crs"] = f"<{crs_uri(axes.crs)}>"
    if axes.x in ds.coords and axes.y in ds.coords and ds[axes.x].ndim == 1 and ds[axes.y].ndim == 1:
        x0, x1 = _edges(ds[axes.x].values)
        y0, y1 = _edges(ds[axes.y].values)
        box = (y0, x0, y1, x1) if _north_first(axes.crs) else (x0, y0, x1, y1)
        if all(np.isfinite(box)):
            out["Content-Bbox"] = ",".join(f"{v:.10g}" for v in box)
    gregorian = (axes.calendar or "standard") in ("standard", "gregorian", "proleptic_gregorian")
    if gregorian and axes.t is not None and axes.t in ds.coords and ds[axes.t].size:  # RFC 3339 is Gregorian
        times = [t for t in iso_times(np.atleast_1d(ds[axes.t].values)) if t]
        if times:
            out["Content-Datetime"] = times[0] if len(times) == 1 else f"{min(times)}/{max(times)}"
    return out
