"""Finding a curvilinear grid in a Dataset (CF 1.11 section 5.2) and making its file usable at open.

`detect` decides, for `axes.build_axes`, whether X/Y are the index dimensions of 2-D
latitude/longitude (identified by cf-xarray, or by CF standard_name/units when they are
written as data variables) and builds the `CurvilinearGrid`; `prepare`, run by
`sources.open_gridded` on every opened dataset, turns such lat/lon (and their bounds) into
coordinates and indexes a meaningless record dimension by its time coordinate (NEMO).
"""

from __future__ import annotations

import cf_xarray  # noqa: F401 - registers the .cf accessor
import numpy as np
import xarray as xr

from .curvilinear import CurvilinearGrid, normalised


# ---------------------------------------------------------------- detection

def _lonlat_pairs(ds: xr.Dataset) -> list[tuple[str, str, tuple[str, str]]]:
    """2-D (longitude, latitude) variable pairs on the same two dimensions, as cf-xarray identifies them."""
    try:
        found = ds.cf.coordinates
    except Exception:  # noqa: BLE001 - odd attributes must not stop a dataset from opening
        return []
    lons = [n for n in found.get("longitude", []) if n in ds.variables and ds[n].ndim == 2]
    lats = [n for n in found.get("latitude", []) if n in ds.variables and ds[n].ndim == 2]
    for name, var in ds.data_vars.items():  # lat/lon written as data variables (no `coordinates` attribute)
        if var.ndim == 2:
            kind = _lonlat_kind(var)
            if kind == "longitude" and name not in lons:
                lons.append(name)
            elif kind == "latitude" and name not in lats:
                lats.append(name)
    return [(lo, la, tuple(map(str, ds[lo].dims))) for lo in lons for la in lats if ds[lo].dims == ds[la].dims]


LON_UNITS = {"degrees_east", "degree_east", "degree_e", "degrees_e", "degreee", "degreese"}
LAT_UNITS = {"degrees_north", "degree_north", "degree_n", "degrees_n", "degreen", "degreesn"}


def _lonlat_kind(var: xr.DataArray) -> str | None:
    """'longitude' / 'latitude' by CF standard_name or units (CF 1.11 sections 4.1, 4.2), else None."""
    std = str(var.attrs.get("standard_name", ""))
    units = str(var.attrs.get("units", "")).strip().lower()
    if std == "longitude" or units in LON_UNITS:
        return "longitude"
    if std == "latitude" or units in LAT_UNITS:
        return "latitude"
    return None


def _used(ds: xr.Dataset, pair) -> int:
    """How many data variables lie on the pair's dimensions (the grid their values are on)."""
    dims = set(pair[2])
    return sum(1 for v in ds.data_vars.values() if dims <= set(v.dims))


def lonlat_pair(ds: xr.Dataset) -> tuple[str, str, tuple[str, str]] | None:
    """The 2-D longitude/latitude pair most data variables use, or None."""
    pairs = [p for p in _lonlat_pairs(ds) if _used(ds, p)]
    return max(pairs, key=lambda p: _used(ds, p)) if pairs else None


def _degrees_axis(ds: xr.Dataset, dim: str | None) -> bool:
    """A 1-D coordinate that really is a longitude/latitude or projection axis (not an index)."""
    if dim is None or dim not in ds.coords:
        return False
    a = ds[dim].attrs
    units = str(a.get("units", "")).lower()
    std = str(a.get("standard_name", ""))
    return "degree" in units or std in ("longitude", "latitude", "grid_longitude", "grid_latitude",
                                        "projection_x_coordinate", "projection_y_coordinate")


def detect(ds: xr.Dataset, x: str | None, y: str | None, overrides: dict) -> CurvilinearGrid | None:
    """The curvilinear grid of `ds`, or None when it has usable 1-D X/Y axes.

    `x`, `y`: the 1-D axes cf-xarray found (or the config's `axes.x/y`). The grid is
    curvilinear when 2-D latitude/longitude exist and X/Y are not both real 1-D coordinate
    axes (lon/lat in degrees, rotated-pole or projected): then X/Y are the 2-D arrays'
    dimensions, and the config may only say which of them is X.
    """
    pair = lonlat_pair(ds)
    if pair is None:
        return None
    lon_name, lat_name, (d0, d1) = pair
    if _degrees_axis(ds, x) and _degrees_axis(ds, y):
        return None  # real 1-D axes (e.g. a projected grid that also carries 2-D lat/lon)
    if overrides.get("x") or overrides.get("y"):
        ox, oy = overrides.get("x"), overrides.get("y")
        if (ox and ox not in (d0, d1)) or (oy and oy not in (d0, d1)):
            return None  # the config points at other dimensions: not this grid
        x = ox or (d0 if oy == d1 else d1)
        y = oy or (d1 if x == d0 else d0)
        if x == y:
            raise ValueError(f"axes.x and axes.y: both name {x!r}; the 2-D coordinates are on ({d0}, {d1})")
    else:
        x, y = d1, d0
    lon = ds[lon_name].transpose(y, x).values
    lat = ds[lat_name].transpose(y, x).values
    zero_is_fill = int(((lon == 0.0) & (lat == 0.0)).sum()) > 1  # NEMO: eliminated land processors write (0, 0)
    lon, lat, valid = normalised(lon, lat, zero_is_fill)
    if not valid.any():
        raise ValueError(f"{lon_name}/{lat_name}: no cell has a valid longitude/latitude")
    return CurvilinearGrid(x=str(x), y=str(y), lon_name=str(lon_name), lat_name=str(lat_name),
                           lon=lon, lat=lat, valid=valid, zero_is_fill=zero_is_fill)


# ---------------------------------------------------------------- dataset tidying at open

def prepare(ds: xr.Dataset) -> xr.Dataset:
    """Make a curvilinear dataset self-describing before the axes are built.

    - 2-D latitude/longitude (and their CF `bounds`) become coordinates, so they follow
      every selection and are never served as parameters;
    - a time dimension whose own values are not times (NEMO's `time_counter`, all 0,
      with `axis: T` but no units) is indexed by the 1-D datetime coordinate along it
      (NEMO's `time_centered`), so dates can be selected.
    Datasets without 2-D latitude/longitude are returned unchanged.
    """
    pairs = _lonlat_pairs(ds)
    if not pairs:
        return ds
    names = set()
    for lon, lat, _ in pairs:
        for n in (lon, lat):
            names.add(n)
            b = ds[n].attrs.get("bounds")
            if isinstance(b, str) and b in ds.variables:
                names.add(b)
    promote = [n for n in names if n in ds.data_vars]
    if promote:
        ds = ds.set_coords(promote)
    return _time_from_aux(ds)


def _time_from_aux(ds: xr.Dataset) -> xr.Dataset:
    from ..axes import is_datetime_like

    for dim in list(ds.dims):
        if dim in ds.coords and is_datetime_like(np.asarray(ds[dim].values)):
            continue
        aux = [n for n, c in ds.coords.items() if c.dims == (dim,) and n != dim
               and is_datetime_like(np.asarray(c.values))]
        if len(aux) == 1:
            ds = ds.swap_dims({dim: aux[0]})
            unlimited = ds.encoding.get("unlimited_dims")
            if unlimited and dim in unlimited:  # the record dimension keeps being the file's unlimited one
                ds.encoding["unlimited_dims"] = {aux[0] if d == dim else d for d in unlimited}
            if dim in ds.coords and ds[dim].attrs.get("axis") == "T":  # no longer the axis: readers must not take it as one
                ds[dim].attrs = {k: v for k, v in ds[dim].attrs.items() if k != "axis"}
            if ds.sizes[aux[0]] > 1 and not ds.indexes[aux[0]].is_monotonic_increasing:
                ds = ds.sortby(aux[0])
    return ds
