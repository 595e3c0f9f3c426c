"""Many files as one dataset (a glob in `path:`), with `xarray.open_mfdataset`.

Files that carry 1-D dimension coordinates (CMIP6 yearly files: time, plev, lat, lon) are
ordered and combined by those coordinates (`combine="by_coords"`). Model output whose
files have none to order by - NEMO/ORCA monthly files: 2-D `nav_lat`/`nav_lon` on index
dimensions and a record dimension `time_counter` holding 0 in every file - is concatenated
along its record dimension (the file's unlimited dimension, else the dimension of its
time coordinate) in file-name order; the variables without that dimension (2-D
coordinates, cell bounds) are taken from the first file (`data_vars="minimal"`,
`coords="minimal"`, `compat="override"`), so the files must share one grid.
"""

from __future__ import annotations

import xarray as xr

from .times import TimeDecodingError, open_decoded


def open_many(files: list[str], chunks: dict) -> xr.Dataset:
    """Open `files` (sorted paths) lazily as one Dataset, times decoded per file (`sources.times.open_decoded`);
    ValueError with the reason when they do not combine."""
    try:
        return open_decoded(lambda **kw: xr.open_mfdataset(files, chunks=chunks, combine="by_coords", **kw),
                            per_file=True)
    except TimeDecodingError:
        raise
    except ValueError as first_error:
        dim = record_dimension(files[0])
        if dim is None:
            raise ValueError(f"the {len(files)} files cannot be combined: {first_error}") from None
    try:
        return open_decoded(lambda **kw: xr.open_mfdataset(
            files, chunks=chunks, combine="nested", concat_dim=dim, data_vars="minimal", coords="minimal",
            compat="override", join="override", **kw), per_file=True)
    except TimeDecodingError:
        raise
    except ValueError as e:
        raise ValueError(f"the {len(files)} files cannot be concatenated along {dim!r}: {e}") from None


def record_dimension(path: str) -> str | None:
    """The dimension to concatenate files along: the unlimited one, else the dimension of a time coordinate."""
    with xr.open_dataset(path, decode_times=False) as ds:
        unlimited = [d for d in ds.encoding.get("unlimited_dims", ()) if d in ds.dims]
        if len(unlimited) == 1:
            return str(unlimited[0])
        for name in ds.variables:
            var = ds[name]
            if var.ndim == 1 and (var.attrs.get("axis") == "T" or var.attrs.get("standard_name") == "time"):
                return str(var.dims[0])
    return None
