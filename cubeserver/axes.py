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

from .crs_memo import by_identity

from .companions import bounds_only_dims
from .grid_mapping import axis_is_lonlat, find_grid_mapping, grid_mapping_crs
from .grids.edges import outer_edges as _edges
from .query.cftimes import canonical
from .vertical import ParametricVertical, find_parametric, is_parametric

CRS84 = CRS.from_user_input("OGC:CRS84")
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EDGE_POINTS = 501  # per edge of a transformed box: 21 missed the top of a rotated grid's curved edge by 0.05°

PRESSURE_UNITS = {"hpa", "mbar", "millibar", "millibars", "mb", "pa", "kpa", "bar", "atm"}


@by_identity
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


@by_identity
@lru_cache(maxsize=256)
def crs_label(crs: CRS) -> str:
    """A readable name: the CRS's own, or its conversion (e.g. `rotated pole (Pole rotation (netCDF CF
    convention): grid north pole 39.25, -162)`, `Stereographic`) when it is unnamed (CF grid mappings)."""
    if crs.name and crs.name.lower() not in ("undefined", "unknown", "unnamed", ""):
        return crs.name
    op = crs.coordinate_operation
    if op is None:
        return crs.name or "unnamed CRS"
    if crs.is_geographic and crs.is_derived:
        params = {p.name.split(" (")[0]: p.value for p in op.params}
        lat, lon = params.get("Grid north pole latitude"), params.get("Grid north pole longitude")
        if lat is not None and lon is not None:
            return f"rotated pole (grid north pole at latitude {lat:g}, longitude {lon:g})"
        return f"rotated pole ({op.method_name})"
    return op.method_name


@lru_cache(maxsize=256)
def parse_crs(text: str) -> CRS:
    """A horizontal 2-D CRS from a URI, `EPSG:n`, `OGC:CRS84` or WKT; raises pyproj's CRSError.

    Refused as well: control characters (pyproj's C API would stop at a NUL and validate
    something other than what was sent), geocentric/vertical CRSs, and CRSs with no
    transformation to CRS84 (e.g. another celestial body).
    """
    t = text.strip()
    if t.startswith("[") and t.endswith("]"):  # a safe CURIE, [EPSG:4326]; never strip a WKT's closing ]
        t = t[1:-1].strip()
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


@by_identity
@lru_cache(maxsize=256)
def is_lonlat(crs: CRS) -> bool:
    """Plain longitude/latitude in degrees on an ellipsoid (CRS84, EPSG:4326, a CF latitude_longitude).

    False for projected CRSs and for derived geographic ones such as a rotated pole, whose x/y
    are angles on a rotated sphere, not longitudes and latitudes.
    """
    if not crs.is_geographic or crs.is_derived:
        return False
    unit = crs.axis_info[0].unit_name if crs.axis_info else "degree"
    return unit.startswith("degree")


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
        from .timeseries.iso_cache import iso_strings  # long axes formatted once (10 years hourly: 87 600)

        return iso_strings(values)
    return [v.strftime("%Y-%m-%dT%H:%M:%S") + "Z" if hasattr(v, "strftime") else None for v in values.ravel()]


@dataclass
class AxisModel:
    """Spatial/temporal axes of one gridded Dataset, all as dimension names.

    `crs` is the CRS of the 1-D x/y axes (from the CF grid mapping, the config or CRS84 for
    longitude/latitude axes); `grid_mapping` names the CF grid-mapping variable it came from;
    `vertical` describes a parametric (model-level) z axis (CF Appendix D).
    """

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
    grid_mapping: str | None = None
    vertical: ParametricVertical | None = None
    # a grids.curvilinear.CurvilinearGrid when lon/lat are 2-D: x/y are then index dimensions
    curvilinear: object | None = field(repr=False, default=None)

    @property
    def lonlat(self) -> bool:
        """x is longitude and y latitude in degrees (see `is_lonlat`): lon/lat queries need no
        transform, longitudes wrap at 180/360. False on rotated-pole, projected and curvilinear
        grids (on those x/y are grid indices; lon/lat live in 2-D arrays)."""
        return self.curvilinear is None and is_lonlat(self.crs)

    @property
    def angular_x(self) -> bool:
        """x is an angle in degrees that wraps every 360 (lon/lat and rotated-pole grids)."""
        if self.curvilinear is not None:
            return False
        return self.crs.is_geographic

    @cached_property
    def lon_360(self) -> bool:
        """Longitudes stored as 0..360: -180..180 queries must be wrapped."""
        return self.lonlat and float(np.nanmax(self.x_values)) > 180.0

    @property
    def spatial_dims(self) -> tuple[str, str]:
        return (self.y, self.x)

    def resolution(self, dim: str) -> float:
        v = {self.x: self.x_values, self.y: self.y_values}[dim]
        return float(abs(v[1] - v[0])) if len(v) > 1 else 0.0

    def to_grid_frame(self, x, width=0.0):
        """Native x angles shifted by whole turns to the grid's own frame (rotated-pole grids only).

        pyproj gives rotated longitudes in -180..180; a grid may store them as 311..391. Each
        value (or interval [x, x + width]) moves by the multiple of 360 that brings its centre
        nearest the grid's centre. Lon/lat and projected grids are returned unchanged.
        """
        x = np.asarray(x, dtype="float64")
        if self.lonlat or not self.angular_x:
            return x
        centre = (float(np.nanmin(self.x_values)) + float(np.nanmax(self.x_values))) / 2
        return x + 360.0 * np.round((centre - (x + np.asarray(width) / 2)) / 360.0)

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
        x0, x1 = _edges(self.x_values)
        y0, y1 = _edges(self.y_values)
        return (x0, y0, x1, y1)

    def crs84_bbox(self) -> tuple[float, float, float, float]:
        """Bounds in lon/lat (worked out once: every map tile and extent asks); see `_crs84_bbox`."""
        return self._crs84_bbox

    @cached_property
    def _crs84_bbox(self) -> tuple[float, float, float, float]:
        """Bounds in lon/lat; 0..360 grids are reported as -180..180 per OGC API.

        Other CRSs: the native cell edges densified and transformed (pyproj transform_bounds);
        minx > maxx when the grid crosses the antimeridian; a grid holding a pole reaches
        latitude +-90 with longitudes -180..180. Curvilinear grids: from their 2-D lon/lat.
        """
        if self.curvilinear is not None:
            return self.curvilinear.bbox()
        minx, miny, maxx, maxy = self.native_bbox()
        if self.lonlat:
            miny, maxy = max(miny, -90.0), min(maxy, 90.0)
            if self.lon_360:
                if minx <= 0.0 and maxx >= 360.0 - 1e-9 or (maxx - minx) >= 360 - 1e-9:
                    return (-180.0, miny, 180.0, maxy)
                minx, maxx = _wrap180(minx), _wrap180(maxx)
                if minx > maxx:  # crosses the antimeridian
                    return (minx, miny, maxx, maxy)
            return (max(minx, -180.0), miny, min(maxx, 180.0), maxy)
        b = [float(v) for v in self.to_crs84.transform_bounds(minx, miny, maxx, maxy, densify_pts=EDGE_POINTS)]
        for lat in (90.0, -90.0):  # a pole inside the grid: every longitude, up to the pole
            px, py = self.to_native.transform(0.0, lat, errcheck=False)
            px = float(self.to_grid_frame(px))
            if np.isfinite(px) and np.isfinite(py) and minx <= px <= maxx and miny <= py <= maxy:
                b[0], b[2] = -180.0, 180.0
                b[3 if lat > 0 else 1] = lat
        return tuple(b)

    def time_interval(self) -> list[str | None] | None:
        if self.t is None or self.t_values is None or len(self.t_values) == 0:
            return None
        iso = [s for s in iso_times(self.t_values) if s is not None]
        return [min(iso), max(iso)] if iso else None

    def describe(self) -> dict:
        out = {
            "x": self.x, "y": self.y, "z": self.z, "t": self.t, "others": self.others,
            "crs": crs_uri(self.crs), "crs_name": crs_label(self.crs), "lonlat": self.lonlat, "grid_mapping": self.grid_mapping,
            "lon_360": self.lon_360, "calendar": self.calendar if self.t else None,
            "vertical": None if self.vertical is None else {
                "coordinate": self.vertical.coordinate, "standard_name": self.vertical.standard_name,
                "formula_terms": self.vertical.formula_terms},
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


def _vertical_units_ok(ds: xr.Dataset, z: str) -> bool:
    """A Z candidate is vertical when it has units, `positive`, or is a parametric coordinate (CF 4.3)."""
    da = ds[z]
    units = str(da.attrs.get("units", "")).lower()
    return bool(units) or "positive" in da.attrs or is_parametric(da) or find_parametric(ds, z) is not None


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
    if z is not None and "z" not in overrides and not _vertical_units_ok(ds, z):
        z = None
    t = overrides.get("t") or _first(axes.get("T"), dims) or _first(coords.get("time"), dims)
    if t is not None and "t" not in overrides and not is_datetime_like(ds[t].values):
        t = None  # e.g. ERA-Interim's integer `month`: an ordinary extra dimension, not time

    crs = CRS84 if curvilinear is not None else _find_crs(ds, x, crs_override, y, g)
    if crs is None:
        raise ValueError(
            f"{x}/{y} are not longitude/latitude (units {ds[x].attrs.get('units')!r}, standard_name "
            f"{ds[x].attrs.get('standard_name')!r}) and no CF grid mapping describes them; set crs: "
            "(the CRS of these axes) or axes: for this collection")
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
    others = [str(d) for d in _field_dims(ds, x, y) if d not in used]
    gm = None if crs_override or curvilinear is not None else find_grid_mapping(ds, x, y)
    return AxisModel(
        x=str(x), y=str(y), z=z and str(z), t=t and str(t), others=others, crs=crs,
        x_values=np.asarray(ds[x].values, dtype="float64"), y_values=np.asarray(ds[y].values, dtype="float64"),
        curvilinear=curvilinear,
        z_values=np.asarray(ds[z].values) if z else None, t_values=t_values,
        z_units=z_units, z_positive=z_positive, calendar=canonical(str(calendar)),
        grid_mapping=gm, vertical=find_parametric(ds, z),
    )


def _field_dims(ds: xr.Dataset, x: str, y: str) -> list:
    """Dimensions of the fields on the x/y grid, in dataset order: bounds-only dims are not axes (CF 7.1)."""
    used = {d for v in ds.data_vars.values() if x in v.dims and y in v.dims for d in v.dims}
    skip = bounds_only_dims(ds)
    return [d for d in ds.dims if (d in used or not used) and d not in skip]


def _find_crs(ds: xr.Dataset, x: str, override: str | None, y: str, g: xr.Dataset) -> CRS | None:
    """The CRS of the 1-D x/y axes, or None when nothing tells it and they are not lon/lat.

    In order: the config's `crs:`; the CF grid mapping (CF 5.6, `grid_mapping.grid_mapping_crs`);
    rioxarray's reading (GeoTIFF `spatial_ref`, `crs_wkt`); CRS84 when x/y are longitude/latitude
    (units degrees_east/north or standard_name longitude/latitude, after cf-xarray's name guesses).
    A rotated or projected x/y without a grid mapping gives None: never pretend it is CRS84.
    Raises ValueError for a grid mapping pyproj cannot read or x/y units it cannot convert.
    `g`: the caller's `_guessed(ds)` (cf-xarray's guesses cost ~0.1 s a file: made once per build_axes).
    """
    lonlat_axes = axis_is_lonlat(g[x] if x in g else ds[x], "x") and axis_is_lonlat(g[y] if y in g else ds[y], "y")
    if override:
        crs = parse_crs(override)
    else:
        found = grid_mapping_crs(ds, x, y, lonlat_axes)
        crs = found[0] if found else _rio_crs(ds)
        if crs is None and lonlat_axes:
            crs = CRS84
    if crs is None:
        return None
    if is_lonlat(crs) and crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return CRS84
    # as published (WKT when no authority has it): a client sending that WKT back gets an equal CRS
    # (PROJ does not find a from_cf rotated pole equal to its own WKT); also a plain CRS, not a subclass
    return crs if crs.to_authority() else CRS.from_wkt(crs.to_wkt())


def _rio_crs(ds: xr.Dataset) -> CRS | None:
    """rioxarray's CRS of the dataset (GeoTIFF spatial_ref, crs_wkt), or None."""
    try:
        import rioxarray  # noqa: F401 - registers .rio

        crs = ds.rio.crs
    except Exception:  # noqa: BLE001 - no usable grid mapping
        return None
    return None if crs is None else CRS.from_user_input(crs.to_wkt())


def time_index(values: np.ndarray) -> pd.Index | xr.CFTimeIndex:
    """An index that compares with parsed datetimes, for numpy and cftime axes alike."""
    if np.issubdtype(values.dtype, np.datetime64):
        return pd.DatetimeIndex(values)
    return xr.CFTimeIndex(values)
