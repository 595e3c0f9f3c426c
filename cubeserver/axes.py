"""The CF axis model: which dimension is X, Y, Z and T, the CRS, and the extents.

This is the one place that knows how axes are found (cf-xarray's CF attributes and
name heuristics, rioxarray's grid_mapping / spatial_ref); nothing else guesses names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import cf_xarray  # noqa: F401 - registers the .cf accessor
import numpy as np
import pandas as pd
import xarray as xr
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from .query.cftimes import canonical

CRS84 = CRS.from_user_input("OGC:CRS84")
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

PRESSURE_UNITS = {"hpa", "mbar", "millibar", "millibars", "mb", "pa", "kpa", "bar", "atm"}


@lru_cache(maxsize=256)
def crs_uri(crs: CRS) -> str:
    """The OGC URI of a CRS (CRS84 for lon/lat WGS 84); WKT when no authority has it.

    Cached: for a CRS no authority knows (e.g. a GRIB polar stereographic grid)
    pyproj's to_authority() searches the whole database, ~10 ms a call.
    """
    if crs == CRS84 or crs.equals(CRS84):
        return CRS84_URI
    auth = crs.to_authority()
    if auth:
        return f"http://www.opengis.net/def/crs/{auth[0]}/0/{auth[1]}"
    return crs.to_wkt()


@lru_cache(maxsize=256)
def parse_crs(text: str) -> CRS:
    """A horizontal 2-D CRS from a URI, `EPSG:n`, `OGC:CRS84` or WKT; raises pyproj's CRSError.

    Refused as well: control characters (pyproj's C API would stop at a NUL and validate
    something other than what was sent), geocentric/vertical CRSs, and CRSs with no
    transformation to CRS84 (e.g. another celestial body).
    """
    t = text.strip().strip("[]")
    if not t.isprintable():
        raise CRSError("a CRS may not contain control characters")
    if t.startswith("http://www.opengis.net/def/crs/"):
        parts = t.rstrip("/").split("/")
        if len(parts) >= 3:
            auth, code = parts[-3], parts[-1]
            t = "OGC:CRS84" if code in ("CRS84", "CRS84h") else f"{auth}:{code}"
    crs = CRS.from_user_input(t)
    if crs.is_compound:
        crs = next((sub for sub in crs.sub_crs_list if sub.is_geographic or sub.is_projected), crs)
    if not (crs.is_geographic or crs.is_projected) or crs.is_geocentric or len(crs.axis_info) != 2:
        raise CRSError(f"{text!r} is not a horizontal 2-D CRS")
    try:
        Transformer.from_crs(crs, CRS84, always_xy=True).transform(0.0, 0.0, errcheck=False)
    except ProjError:
        raise CRSError(f"{text!r} cannot be transformed to lon/lat") from None
    return crs


def is_datetime_like(values: np.ndarray) -> bool:
    if np.issubdtype(values.dtype, np.datetime64):
        return True
    if values.dtype == object and values.size:
        import cftime

        return isinstance(values.flat[0], cftime.datetime)
    return False


def iso_times(values) -> list[str]:
    """RFC 3339 strings with a zone (`2000-01-16T06:00:00Z`), for numpy and cftime times; None where missing."""
    values = np.asarray(values)
    if values.size == 0:
        return []
    if np.issubdtype(values.dtype, np.datetime64):
        text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s")
        return [None if nat else s + "Z" for s, nat in zip(text.ravel(), np.isnat(values).ravel())]
    return [v.strftime("%Y-%m-%dT%H:%M:%S") + "Z" if hasattr(v, "strftime") else None for v in values.ravel()]


@dataclass
class AxisModel:
    """Spatial/temporal axes of one gridded Dataset, all as dimension names."""

    x: str
    y: str
    crs: CRS
    z: str | None = None
    t: str | None = None
    others: list[str] = field(default_factory=list)
    x_values: np.ndarray = field(repr=False, default=None)
    y_values: np.ndarray = field(repr=False, default=None)
    z_values: np.ndarray | None = field(repr=False, default=None)
    t_values: np.ndarray | None = field(repr=False, default=None)
    z_units: str | None = None
    z_positive: str | None = None
    calendar: str = "standard"
    # a grids.curvilinear.CurvilinearGrid when lon/lat are 2-D: x/y are then index dimensions
    curvilinear: object | None = field(repr=False, default=None)

    @property
    def geographic(self) -> bool:
        if self.curvilinear is not None:  # x/y are grid indices; lon/lat live in 2-D arrays
            return False
        return self.crs.is_geographic

    @property
    def lon_360(self) -> bool:
        """Longitudes stored as 0..360: -180..180 queries must be wrapped."""
        return self.geographic and float(np.nanmax(self.x_values)) > 180.0

    @property
    def spatial_dims(self) -> tuple[str, str]:
        return (self.y, self.x)

    def resolution(self, dim: str) -> float:
        v = {self.x: self.x_values, self.y: self.y_values}[dim]
        return float(abs(v[1] - v[0])) if len(v) > 1 else 0.0

    @cached_property
    def to_native(self) -> Transformer:
        return Transformer.from_crs(CRS84, self.crs, always_xy=True)

    @cached_property
    def to_crs84(self) -> Transformer:
        return Transformer.from_crs(self.crs, CRS84, always_xy=True)

    def native_bbox(self) -> tuple[float, float, float, float]:
        """Bounds of the cell edges in the native CRS (minx, miny, maxx, maxy)."""
        if self.curvilinear is not None:  # answers are in lon/lat: the native CRS is CRS84
            return self.curvilinear.bbox()
        hx, hy = self.resolution(self.x) / 2, self.resolution(self.y) / 2
        xs, ys = self.x_values, self.y_values
        return (float(np.min(xs)) - hx, float(np.min(ys)) - hy, float(np.max(xs)) + hx, float(np.max(ys)) + hy)

    def crs84_bbox(self) -> tuple[float, float, float, float]:
        """Bounds in lon/lat; 0..360 grids are reported as -180..180 per OGC API."""
        if self.curvilinear is not None:
            return self.curvilinear.bbox()
        minx, miny, maxx, maxy = self.native_bbox()
        if self.geographic:
            miny, maxy = max(miny, -90.0), min(maxy, 90.0)
            if self.lon_360:
                if minx <= 0.0 and maxx >= 360.0 - 1e-9 or (maxx - minx) >= 360 - 1e-9:
                    return (-180.0, miny, 180.0, maxy)
                minx, maxx = _wrap180(minx), _wrap180(maxx)
                if minx > maxx:  # crosses the antimeridian
                    return (minx, miny, maxx, maxy)
            return (max(minx, -180.0), miny, min(maxx, 180.0), maxy)
        b = self.to_crs84.transform_bounds(minx, miny, maxx, maxy, densify_pts=21)
        return tuple(float(v) for v in b)

    def time_interval(self) -> list[str | None] | None:
        if self.t is None or self.t_values is None or len(self.t_values) == 0:
            return None
        iso = [s for s in iso_times(self.t_values) if s is not None]
        return [min(iso), max(iso)] if iso else None

    def describe(self) -> dict:
        out = {
            "x": self.x, "y": self.y, "z": self.z, "t": self.t, "others": self.others,
            "crs": crs_uri(self.crs), "lon_360": self.lon_360, "calendar": self.calendar if self.t else None,
        }
        if self.curvilinear is not None:
            out.update(self.curvilinear.describe())
        return out


def _wrap180(v: float) -> float:
    return ((v + 180.0) % 360.0) - 180.0


def _first(names: list[str] | None, dims) -> str | None:
    for n in names or []:
        if n in dims:
            return n
    return None


def _guessed(ds: xr.Dataset) -> xr.Dataset:
    """A copy with cf-xarray's guesses for axis attributes (names, units) added."""
    coords_only = xr.Dataset(coords={d: ds[d] for d in ds.dims if d in ds.coords})
    return coords_only.cf.guess_coord_axis()


def _vertical_units_ok(da: xr.DataArray) -> bool:
    units = str(da.attrs.get("units", "")).lower()
    return bool(units) or "positive" in da.attrs


def build_axes(ds: xr.Dataset, overrides: dict | None = None, crs_override: str | None = None) -> AxisModel:
    """Find X, Y, Z, T and the CRS of `ds`; raise ValueError naming what is missing."""
    overrides = {k: v for k, v in (overrides or {}).items() if v}
    positive_override = overrides.pop("z_positive", None)
    for key, dim in overrides.items():
        if dim not in ds.dims:
            raise ValueError(f"axes.{key}: {dim!r} is not a dimension; dimensions are {sorted(map(str, ds.dims))}")
    g = _guessed(ds)
    axes, coords = g.cf.axes, g.cf.coordinates
    dims = list(ds.dims)
    x = overrides.get("x") or _first(axes.get("X"), dims) or _first(coords.get("longitude"), dims)
    y = overrides.get("y") or _first(axes.get("Y"), dims) or _first(coords.get("latitude"), dims)
    from .grids.detect import detect as detect_curvilinear

    curvilinear = detect_curvilinear(ds, x, y, overrides)
    if curvilinear is not None:  # 2-D lat/lon: x/y are the index dimensions, never lon/lat
        x, y = curvilinear.x, curvilinear.y
    if x is None or y is None:
        raise ValueError(f"no X/Y axes found among dimensions {sorted(map(str, dims))}; set axes.x and axes.y")
    z = overrides.get("z") or _first(axes.get("Z"), dims) or _first(coords.get("vertical"), dims)
    if z is not None and "z" not in overrides and not _vertical_units_ok(ds[z]):
        z = None
    t = overrides.get("t") or _first(axes.get("T"), dims) or _first(coords.get("time"), dims)
    if t is not None and "t" not in overrides and not is_datetime_like(ds[t].values):
        t = None  # e.g. ERA-Interim's integer `month`: an ordinary extra dimension, not time

    crs = CRS84 if curvilinear is not None else _find_crs(ds, x, crs_override)
    t_values = ds[t].values if t else None
    calendar = "standard"
    if t is not None:
        calendar = ds[t].encoding.get("calendar") or ds[t].attrs.get("calendar") or "standard"
        if t_values is not None and t_values.dtype == object and t_values.size:
            calendar = getattr(t_values.flat[0], "calendar", calendar) or calendar
    z_units = str(ds[z].attrs.get("units")) if z and "units" in ds[z].attrs else None
    z_positive = (ds[z].attrs.get("positive") or positive_override) if z else None
    if z and z_positive is None and z_units:
        z_positive = "down" if z_units.lower() in PRESSURE_UNITS else "up"
    used = {x, y, z, t}
    # extra axes are those of the data; a dimension only coordinates use (`bnds` of time_bnds) is none
    others = [str(d) for d in dims if d not in used and any(d in v.dims for v in ds.data_vars.values())]
    if curvilinear is not None:  # only dims of the gridded variables (not the cell-corner `nvertex` of the 2-D bounds)
        others = [d for d in others if any(d in v.dims for v in ds.data_vars.values() if x in v.dims and y in v.dims)]
    return AxisModel(
        x=str(x), y=str(y), z=z and str(z), t=t and str(t), others=others, crs=crs,
        x_values=np.asarray(ds[x].values, dtype="float64"), y_values=np.asarray(ds[y].values, dtype="float64"),
        curvilinear=curvilinear,
        z_values=np.asarray(ds[z].values) if z else None, t_values=t_values,
        z_units=z_units, z_positive=z_positive, calendar=canonical(str(calendar)),
    )


def _find_crs(ds: xr.Dataset, x: str, override: str | None) -> CRS:
    if override:
        crs = parse_crs(override)
    else:
        crs = None
        try:
            import rioxarray  # noqa: F401 - registers .rio

            crs = ds.rio.crs
        except Exception:  # noqa: BLE001 - no usable grid mapping: fall back below
            crs = None
        if crs is not None:
            crs = CRS.from_user_input(crs.to_wkt())
        else:
            units = str(ds[x].attrs.get("units", "")).lower()
            std = ds[x].attrs.get("standard_name", "")
            if "degree" in units or std == "longitude" or ds.cf.coordinates.get("longitude"):
                crs = CRS84
            else:
                crs = CRS84
    if crs.is_geographic:
        crs = CRS84 if crs.equals(CRS.from_epsg(4326), ignore_axis_order=True) else crs
    return crs


def time_index(values: np.ndarray) -> pd.Index | xr.CFTimeIndex:
    """An index that compares with parsed datetimes, for numpy and cftime axes alike."""
    if np.issubdtype(values.dtype, np.datetime64):
        return pd.DatetimeIndex(values)
    return xr.CFTimeIndex(values)
