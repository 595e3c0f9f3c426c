"""CF encoding of one variable for Zarr: xarray's own encoder, frozen once per variable.

Values go out exactly as a CF file stores them, so `xr.open_zarr` decodes them as
opening the source does: times as numbers with `units`/`calendar` (cftime calendars
included), packed variables as their integers with `scale_factor`/`add_offset`/
`_FillValue` (the chunk is as small as the source's and decodes bit-identically).
The units/dtype that xarray picks are learnt once from a sample and then frozen,
so every chunk is encoded the same way.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr
from xarray.conventions import encode_cf_variable

from ..axes import is_datetime_like

# encodings that describe values; chunking, filters and codecs of the source are dropped
_VALUE_ENCODINGS = ("_FillValue", "missing_value", "dtype", "scale_factor", "add_offset", "units", "calendar")
_SMALL = 4_000_000  # in-memory variables up to this many values are encoded whole


@dataclass(frozen=True)
class Encoded:
    dtype: np.dtype  # on the wire, little-endian
    fill_value: object  # Python value for .zarray (None, number, or NaN)
    attrs: dict  # attributes after encoding, without _FillValue
    encoding: dict  # frozen encoding applied to every chunk


def cf_ready(var: xr.Variable) -> xr.Variable:
    """Copy keeping value encodings only; `_FillValue` kept as an attribute (GeoTIFF nodata) becomes one."""
    enc = {k: v for k, v in var.encoding.items() if k in _VALUE_ENCODINGS}
    attrs = dict(var.attrs)
    fill = attrs.pop("_FillValue", None)
    if fill is not None and "_FillValue" not in enc:
        enc["_FillValue"] = fill
    if var.encoding.get("grid_mapping") and "grid_mapping" not in attrs:
        attrs["grid_mapping"] = var.encoding["grid_mapping"]
    packed = "dtype" in enc and np.dtype(enc["dtype"]).kind in "iu" and var.dtype.kind == "f"
    fill_now = enc.get("_FillValue", enc.get("missing_value"))
    if packed and fill_now is not None and _is_nan(fill_now):
        for k in ("dtype", "scale_factor", "add_offset", "_FillValue", "missing_value"):
            enc.pop(k, None)  # an integer type cannot hold a NaN fill: serve floats
    return xr.Variable(var.dims, var.data, attrs=attrs, encoding=enc, fastpath=True)


def _is_nan(v) -> bool:
    try:
        return bool(np.isnan(v))
    except TypeError:
        return False


def _sample(var: xr.Variable) -> xr.Variable:
    """Coordinates and small in-memory arrays whole (loaded once, kept); else one value of a lazy array."""
    if var.chunks is None and var.size <= _SMALL:
        return var.load() if not isinstance(var.data, np.ndarray) else var
    if var.size == 0:
        return var.load()
    return var[tuple(slice(0, 1) for _ in var.dims)].load()


def _time_like(sample: xr.Variable) -> bool:
    return sample.dtype.kind in "mM" or is_datetime_like(np.asarray(sample.values))


def learn(name: str, var: xr.Variable) -> Encoded:
    """Encode a sample of `var` (already `cf_ready`) to learn attributes and dtype; raise TypeError if unservable."""
    sample = _sample(var)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc_var = encode_cf_variable(sample.copy(deep=False), name=name)
    dtype = np.dtype(enc_var.dtype)
    if dtype.kind not in "biufc":
        raise TypeError(f"{name}: dtype {dtype} has no Zarr v2 encoding here")
    attrs = dict(enc_var.attrs)
    fill = attrs.pop("_FillValue", None)
    frozen = dict(var.encoding)
    if _time_like(sample):
        frozen.update(units=attrs.get("units"), dtype=dtype)
        if "calendar" in attrs:
            frozen["calendar"] = attrs["calendar"]
    wire = dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype
    return Encoded(dtype=wire, fill_value=_plain(fill), attrs=attrs, encoding=frozen)


def encode_values(name: str, var: xr.Variable, spec: Encoded) -> np.ndarray:
    """The stored (encoded) values of a loaded piece of `var`, in the wire dtype."""
    piece = xr.Variable(var.dims, var.values, attrs=var.attrs, encoding=dict(spec.encoding))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # packed without _FillValue: decoded values hold no NaN to lose
        data = np.asarray(encode_cf_variable(piece, name=name).values)
    return np.asarray(data, dtype=spec.dtype, order="C")  # not ascontiguousarray: it makes scalars 1-d


def _plain(v):
    if v is None:
        return None
    if isinstance(v, np.ndarray):
        v = v.item() if v.size == 1 else v.tolist()
    if isinstance(v, np.generic):
        v = v.item()
    return v


def json_fill(v):
    """A .zarray fill_value: JSON numbers, with NaN and infinities spelled as Zarr v2 wants."""
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
    if isinstance(v, bytes):
        return None
    return v


def json_attr(v):
    """Attribute values as JSON: numpy scalars and arrays become plain numbers and lists."""
    if isinstance(v, np.ndarray):
        return [json_attr(x) for x in v.tolist()] if v.ndim else json_attr(v.item())
    if isinstance(v, np.generic):
        return json_attr(v.item())
    if isinstance(v, (list, tuple)):
        return [json_attr(x) for x in v]
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, dict):
        return {str(k): json_attr(x) for k, x in v.items()}
    return v
