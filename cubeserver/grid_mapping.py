"""CF grid mappings (CF 1.11 section 5.6): which variable describes the x/y axes, and its pyproj CRS.

A grid mapping is found wherever CF allows it, in this order:
1. the `grid_mapping` attribute (or encoding) of a data variable on the x/y dimensions, or of a
   coordinate variable; both the simple form (`"crs"`) and the extended form
   (`"crsA: x y crsB: lat lon"`, where the mapping whose coordinates are the 1-D x/y is taken);
2. a single variable holding a `grid_mapping_name`, `crs_wkt` or `spatial_ref` attribute.
The CRS is built with `pyproj.CRS.from_cf` (every mapping pyproj knows: rotated_latitude_longitude,
polar_stereographic, stereographic, lambert_conformal_conic, mercator, transverse_mercator,
geostationary, lambert_azimuthal_equal_area, albers_conical_equal_area, ...; `crs_wkt` wins when present).

The x/y units are then checked (CF 4.1, 5.6): projection coordinates in km get a kilometre axis
unit, geostationary scanning angles in radians get a unit of `perspective_point_height` metres
(x_m = angle * h, CF Appendix F), so PROJ transforms the stored values as they are; other units are
refused with a message saying what to set.
"""

from __future__ import annotations

import re

import numpy as np
import xarray as xr
from pyproj import CRS
from pyproj.exceptions import CRSError

LENGTH_UNITS = {"m": 1.0, "metre": 1.0, "metres": 1.0, "meter": 1.0, "meters": 1.0,
                "km": 1000.0, "kilometre": 1000.0, "kilometres": 1000.0, "kilometer": 1000.0, "kilometers": 1000.0,
                "100 km": 100_000.0, "1e3 m": 1000.0}
RADIANS = {"rad", "radian", "radians"}
DEGREES = {"degree", "degrees", "deg"}
_ENTRY = re.compile(r"([^\s:]+):")


def parse_grid_mapping(text: str) -> list[tuple[str, list[str]]]:
    """The `grid_mapping` attribute as (variable, [coordinates]) pairs (CF 5.6).

    `"crs"` -> `[("crs", [])]` (applies to every coordinate);
    `"crsA: x y crsB: lat lon"` -> `[("crsA", ["x", "y"]), ("crsB", ["lat", "lon"])]`.
    """
    text = str(text or "").strip()
    if not text:
        return []
    if ":" not in text:
        return [(name, []) for name in text.split()]
    out: list[tuple[str, list[str]]] = []
    for token in text.split():
        m = _ENTRY.fullmatch(token)
        if m:
            out.append((m.group(1), []))
        elif out:
            out[-1][1].append(token)
    return out


def _mapping_attr(var: xr.DataArray) -> str | None:
    return var.attrs.get("grid_mapping") or var.encoding.get("grid_mapping")


def is_grid_mapping(var: xr.DataArray) -> bool:
    """A variable that describes a CRS: it has `grid_mapping_name`, `crs_wkt` or `spatial_ref`."""
    return any(k in var.attrs for k in ("grid_mapping_name", "crs_wkt", "spatial_ref"))


def grid_mapping_names(ds: xr.Dataset) -> list[str]:
    """Every variable named by a `grid_mapping` attribute or holding a grid mapping's attributes."""
    names = [str(n) for n, v in ds.variables.items() if is_grid_mapping(v)]
    for v in ds.variables.values():
        for name, _ in parse_grid_mapping(_mapping_attr(v)):
            if name in ds.variables and name not in names:
                names.append(name)
    return names


def find_grid_mapping(ds: xr.Dataset, x: str, y: str) -> str | None:
    """Name of the grid-mapping variable of the x/y axes, or None when the file has none (CF 5.6)."""
    candidates: list[str] = []
    users = [v for v in ds.data_vars.values() if x in v.dims and y in v.dims]
    users += [ds[n] for n in (x, y) if n in ds.variables]
    users += [v for n, v in ds.coords.items() if n not in (x, y) and x in v.dims and y in v.dims]
    for var in users:
        for name, coords in parse_grid_mapping(_mapping_attr(var)):
            if name not in ds.variables:
                continue
            if coords and not ({x, y} & set(coords)):
                continue  # extended syntax: this mapping describes other coordinates (e.g. 2-D lat/lon)
            if name not in candidates:
                candidates.append(name)
    if candidates:
        return candidates[0]
    orphans = [str(n) for n, v in ds.variables.items() if is_grid_mapping(v)]
    if len(orphans) > 1:  # several: keep the one that is not plain lon/lat, if only one is
        orphans = [n for n in orphans if ds[n].attrs.get("grid_mapping_name") != "latitude_longitude"]
    return orphans[0] if len(orphans) == 1 else None


def _plain(v):
    """Attribute values as pyproj wants them: numbers as floats (some files store '37.5' as text)."""
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        v = v.tolist() if v.size != 1 else v.item()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def crs_from_grid_mapping(var: xr.DataArray) -> CRS:
    """`pyproj.CRS.from_cf` of a grid-mapping variable's attributes; ValueError naming the variable."""
    attrs = {str(k): _plain(v) for k, v in var.attrs.items()}
    try:
        return CRS.from_cf(attrs)
    except (CRSError, KeyError, ValueError, TypeError) as e:
        kind = attrs.get("grid_mapping_name", "grid mapping")
        raise ValueError(f"grid mapping variable {var.name!r} ({kind}) cannot be read by pyproj ({e}); "
                         "set crs: for this collection") from None


def _with_unit(crs: CRS, name: str, metres: float) -> CRS:
    """The same projected CRS with both axes in a length unit of `metres` metres."""
    doc = crs.to_json_dict()
    for axis in doc["coordinate_system"]["axis"]:
        axis["unit"] = {"type": "LinearUnit", "name": name, "conversion_factor": metres}
    return CRS.from_json_dict(doc)


def _degrees_as_one(unit: str) -> str:
    """`degrees_east`, `degree_N`, `degrees` ... -> "degrees": lon and lat differ in unit name only (CF 4.1, 4.2)."""
    return "degrees" if unit.startswith("degree") else unit


def adapt_to_axis_units(crs: CRS, xv: xr.DataArray, yv: xr.DataArray, mapping: xr.DataArray | None) -> CRS:
    """`crs` with axis units matching how x/y are stored; ValueError when they cannot be read.

    Projected: m (as CF says), km, or radians for geostationary scanning angles. Rotated
    pole (derived geographic): degrees. A CRS from WKT that already says its unit is kept.
    """
    units = {_degrees_as_one(str(v.attrs.get("units", "")).strip().lower()) for v in (xv, yv)} - {""}
    std = str(xv.attrs.get("standard_name", ""))
    if len(units) > 1:
        raise ValueError(f"x ({xv.name}) and y ({yv.name}) have different units {sorted(units)}; set crs: and axes:")
    unit = units.pop() if units else ""
    if crs.is_projected:
        current = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        if unit in RADIANS or std == "projection_x_angular_coordinate":
            h = _plain(mapping.attrs.get("perspective_point_height")) if mapping is not None else None
            if "geos" not in crs.to_proj4().lower() or not isinstance(h, float):
                raise ValueError(f"{xv.name} is in radians, which only a geostationary grid mapping with "
                                 "perspective_point_height can convert; set crs: for this collection")
            return _with_unit(crs, "radian of scan angle x perspective_point_height", h)
        if not unit or unit in LENGTH_UNITS and abs(LENGTH_UNITS[unit] - current) < 1e-12 * current:
            return crs
        if unit in LENGTH_UNITS:
            return _with_unit(crs, "kilometre" if LENGTH_UNITS[unit] == 1000.0 else unit, LENGTH_UNITS[unit])
        raise ValueError(f"{xv.name} has units {unit!r}; projection coordinates must be in m or km "
                         "(CF 4.1); set crs: for this collection")
    if crs.is_geographic and unit and unit not in DEGREES and not unit.startswith("degree"):
        raise ValueError(f"{xv.name} has units {unit!r}; {crs.name} coordinates must be in degrees; "
                         "set crs: for this collection")
    return crs


def grid_mapping_crs(ds: xr.Dataset, x: str, y: str, lonlat_axes: bool) -> tuple[CRS, str] | None:
    """(CRS, grid-mapping variable name) of the 1-D x/y axes, or None when no grid mapping applies.

    `lonlat_axes`: x/y are longitude/latitude; a plain lon/lat mapping found on other axes
    describes their 2-D lat/lon coordinates, not them, and is ignored. ValueError (naming the
    variable) when pyproj cannot read the mapping or the x/y units cannot be converted.
    """
    name = find_grid_mapping(ds, x, y)
    if name is None:
        return None
    var = ds[name]
    crs = crs_from_grid_mapping(var)
    if crs.is_compound:
        crs = next((s for s in crs.sub_crs_list if s.is_geographic or s.is_projected), crs)
    if crs.is_geographic and not crs.is_derived and not lonlat_axes:
        return None  # a lon/lat mapping that describes 2-D lat/lon, not these x/y
    return adapt_to_axis_units(crs, ds[x], ds[y], var), name


LON_UNITS = {"degrees_east", "degree_east", "degree_e", "degrees_e", "degreee", "degreese"}
LAT_UNITS = {"degrees_north", "degree_north", "degree_n", "degrees_n", "degreen", "degreesn"}
NOT_LONLAT = {"grid_longitude", "grid_latitude", "projection_x_coordinate", "projection_y_coordinate",
              "projection_x_angular_coordinate", "projection_y_angular_coordinate"}


def axis_is_lonlat(var: xr.DataArray, kind: str) -> bool:
    """Whether a 1-D axis reads as longitude (kind 'x') or latitude ('y') in degrees (CF 4.1, 4.2).

    Yes: standard_name longitude/latitude, or units degrees_east/north. No: anything else, e.g. a
    grid_longitude or projection_x_coordinate, units that are not degrees, or plain `degrees` with
    nothing saying which. Pass the variable after cf-xarray's `guess_coord_axis`, which adds the
    standard_name to axes named like `lon`/`lat`.
    """
    a = var.attrs
    std = str(a.get("standard_name", "")).strip()
    units = str(a.get("units", "")).strip().lower().replace(" ", "_")
    if std in NOT_LONLAT:
        return False
    if std == ("longitude" if kind == "x" else "latitude"):
        return not units or units in (LON_UNITS if kind == "x" else LAT_UNITS) or units in DEGREES
    return units in (LON_UNITS if kind == "x" else LAT_UNITS)
