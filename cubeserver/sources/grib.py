"""GRIB (1 and 2) through cfgrib/ecCodes, reshaped into the grid every other format gives.

cfgrib hands back forecast coordinates (`time` = model run, `step` = lead time,
`valid_time`) and, for projected grids, only 2-D latitude/longitude. The server's axis
model wants a datetime `time` dimension and 1-D x/y in the grid's CRS, so:

- one model run: the valid times become the `time` dimension, the run is kept as the
  scalar coordinate `reference_time` (standard_name forecast_reference_time);
- several runs and several lead times: `reference_time` × `step` are kept, so the
  collection can be configured with `reference_time: reference_time` (EDR instances);
- projected grids (polar stereographic, Lambert...): the CRS is ecCodes' own
  `projTargetString`, and x/y are the first row/column of the 2-D lat/lon projected into
  it, checked to be a regular grid. The 2-D lat/lon are dropped (derivable, 30 MB each).

No `.idx` file is written next to the data (`indexpath=""`): data folders may be read-only.

GRIB has no partial reads: any read decodes whole messages (0.3-0.4 s for one HRDPS
field). Files are therefore decoded once, when the collection is opened, and kept in memory
(still dask-chunked one field per chunk, so the rest of the server sees the same Dataset)
as long as all decoded GRIB data of the process stays within DECODE_AT_OPEN_MB; files
beyond that budget stay lazy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

_KEYS = ["projTargetString", "gridType"]
DECODE_AT_OPEN_MB = 512
_decoded_bytes = 0  # decoded so far in this process


def open_grib(path: Path, chunks: dict) -> xr.Dataset:
    """A lazy Dataset of one GRIB file; several hypercubes only when they share one grid."""
    try:
        import cfgrib
    except ImportError as e:  # pragma: no cover - cfgrib is a dependency of the package
        raise ValueError("reading GRIB needs cfgrib and eccodes (pip install cfgrib eccodes)") from e

    # open_datasets, not open_dataset: the latter silently skips variables that do not fit the first hypercube
    parts = cfgrib.open_datasets(str(path), backend_kwargs={"indexpath": "", "read_keys": _KEYS}, chunks=chunks)
    if not parts:
        raise ValueError(f"{path.name} holds no GRIB messages cfgrib can read")
    grids = {tuple((d, n) for d, n in p.sizes.items()) for p in parts}
    ds = parts[0]
    if len(parts) > 1:
        try:
            if len(grids) > 1:
                raise ValueError("different grids")
            ds = xr.merge(parts, compat="no_conflicts", join="exact", combine_attrs="drop_conflicts")
        except ValueError:
            shown = "; ".join(", ".join(map(str, p.data_vars)) + f" on {dict(p.sizes)}" for p in parts)
            raise ValueError(f"{path.name} holds {len(parts)} GRIB hypercubes that do not share a grid and "
                             f"times ({shown}); split it, e.g. with grib_copy, one file per collection") from None
    ds = _forecast_axes(ds)
    if "latitude" in ds and ds["latitude"].ndim == 2:
        ds = _projected_grid(ds)
    for v in ds.data_vars.values():  # GRIB's bitmap marks missing values; ecCodes hands them over as NaN
        if v.dtype.kind == "f" and "_FillValue" not in v.encoding and "_FillValue" not in v.attrs:
            v.encoding["_FillValue"] = np.nan  # declared, so netCDF/DAP clients (CDO) treat them as missing
    return _decoded_once(ds)


def _decoded_once(ds: xr.Dataset) -> xr.Dataset:
    """Small files decoded now, once, with the same one-field-per-chunk layout; big ones as they are.

    DECODE_AT_OPEN_MB bounds one file and also all of them together, so a config listing many
    GRIB files keeps at most that much decoded in memory; the rest are read lazily.
    """
    global _decoded_bytes
    size = sum(v.nbytes for v in ds.data_vars.values())
    if _decoded_bytes + size > DECODE_AT_OPEN_MB * 2**20:
        return ds
    _decoded_bytes += size
    out = ds.copy()
    for name, var in ds.data_vars.items():
        chunks = dict(zip(var.dims, var.chunks)) if var.chunks else None
        decoded = var.compute()
        out[name] = decoded.chunk(chunks) if chunks else decoded
    return out


def _forecast_axes(ds: xr.Dataset) -> xr.Dataset:
    """Turn cfgrib's (time, step, valid_time) into a `time` dimension of valid times."""
    if "time" not in ds.coords or "valid_time" not in ds.coords:
        return ds
    runs, leads = "time" in ds.dims, "step" in ds.dims
    ds = ds.rename({"time": "reference_time"})
    if runs and leads:  # a forecast archive: browse it run by run (EDR instances)
        return ds
    vt = ds["valid_time"]
    if vt.ndim == 0:
        ds = ds.expand_dims("valid_time")
    else:
        ds = ds.swap_dims({vt.dims[0]: "valid_time"})
    ds = ds.rename({"valid_time": "time"})
    ds["time"].attrs.update({"standard_name": "time", "long_name": "valid time", "axis": "T"})
    return ds


def _projected_grid(ds: xr.Dataset) -> xr.Dataset:
    """1-D x/y (metres) and a CF grid mapping for a grid that cfgrib gives as 2-D lat/lon."""
    import rioxarray  # noqa: F401 - registers .rio
    from pyproj import CRS, Transformer

    proj = next((v.attrs.get("GRIB_projTargetString") for v in ds.data_vars.values()
                 if v.attrs.get("GRIB_projTargetString")), None)
    grid_type = next((v.attrs.get("GRIB_gridType") for v in ds.data_vars.values()), "unknown")
    if not proj:
        raise ValueError(f"GRIB grid type {grid_type!r} has no projection ecCodes can describe")
    crs = CRS.from_proj4(proj)
    lat, lon = ds["latitude"], ds["longitude"]
    ydim, xdim = lat.dims
    to_grid = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    row = to_grid.transform(np.asarray(lon[0, :]), np.asarray(lat[0, :]))[0]
    col = to_grid.transform(np.asarray(lon[:, 0]), np.asarray(lat[:, 0]))[1]
    x, y = _regular(row, f"x of the {grid_type} grid"), _regular(col, f"y of the {grid_type} grid")
    far = (lat.shape[0] - 1, lat.shape[1] - 1)  # the opposite corner checks the whole grid is regular
    cx, cy = to_grid.transform(float(lon[far]), float(lat[far]))
    if abs(cx - x[-1]) > abs(x[1] - x[0]) / 100 or abs(cy - y[-1]) > abs(y[1] - y[0]) / 100:
        raise ValueError(f"the {grid_type} grid's latitudes/longitudes are not a regular grid in {proj}")
    ds = ds.drop_vars(["latitude", "longitude"])
    ds = ds.rename_dims({d: n for d, n in ((xdim, "x"), (ydim, "y")) if d != n})
    ds = ds.assign_coords(
        x=("x", x, {"axis": "X", "standard_name": "projection_x_coordinate", "units": "m"}),
        y=("y", y, {"axis": "Y", "standard_name": "projection_y_coordinate", "units": "m"}))
    ds = ds.rio.write_crs(crs)
    for v in ds.data_vars.values():
        v.encoding["grid_mapping"] = "spatial_ref"
    return ds


def _regular(values: np.ndarray, what: str) -> np.ndarray:
    """The exact regular axis through `values` (projected GRIB coordinates, rounded by ecCodes)."""
    step = float(np.median(np.diff(values)))
    axis = values[0] + step * np.arange(values.size)
    if not np.all(np.isfinite(values)) or np.max(np.abs(values - axis)) > abs(step) / 100:
        raise ValueError(f"{what} is not regular")
    return np.round(axis, 3)
