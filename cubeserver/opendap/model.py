"""The DAP view of a collection: each variable with its dimensions, wire types and CF attributes as encoded.

Values go out as the source stores them (CF encoding, the same frozen per-variable encoding the
Zarr endpoint uses, `cubeserver.zarr.encoding`): packed variables stay packed integers with
`scale_factor`/`add_offset`/`_FillValue`, times stay numbers with the source's `units`/`calendar`,
so a client decodes them exactly as it decodes the file. DAP2 has fewer types than netCDF
(DAP 2.0, section 3.2): signed bytes are widened to Int16, 64-bit integers become Int32 when every
value fits (coordinates, read once) and Float64 otherwise; DAP4 (section 3.1) has them all.
"""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass, field

import cftime
import numpy as np
import xarray as xr
from xarray.conventions import encode_dataset_coordinates

from ..zarr.encoding import Encoded, cf_ready, encode_values, learn

log = logging.getLogger("cubeserver.opendap")

# numpy kind+size -> (DAP2 type, DAP4 type)
_TYPES = {
    "b1": ("Byte", "UInt8"), "u1": ("Byte", "UInt8"), "i1": ("Int16", "Int8"),
    "i2": ("Int16", "Int16"), "u2": ("UInt16", "UInt16"), "i4": ("Int32", "Int32"), "u4": ("UInt32", "UInt32"),
    "i8": ("Float64", "Int64"), "u8": ("Float64", "UInt64"),
    "f2": ("Float32", "Float32"), "f4": ("Float32", "Float32"), "f8": ("Float64", "Float64"),
}
# DAP type -> numpy dtype of the values (before the XDR/DAP4 wire layout)
NUMPY = {"Byte": "u1", "UInt8": "u1", "Int8": "i1", "Int16": "i2", "UInt16": "u2", "Int32": "i4", "UInt32": "u4",
         "Int64": "i8", "UInt64": "u8", "Float32": "f4", "Float64": "f8"}
_FILL_ATTRS = ("_FillValue", "missing_value")
_UNSIGNED_DAP2 = ("Byte", "UInt16", "UInt32")
STRLEN_SCAN = 1_000_000  # text variables up to this many values are read once for their longest string
_I32 = np.iinfo(np.int32)


@dataclass
class DapVar:
    """One variable: `shape` over `dims`; `dap2`/`dap4` its type names ("String" for text)."""

    name: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    variable: xr.Variable  # lazy, CF-ready (value encodings only)
    encoded: Encoded | None  # None for strings
    dap2: str
    dap4: str
    attrs: dict  # attributes as published (encoded), `_FillValue` included
    strlen: int = 0  # strings: the longest value in UTF-8 bytes (0: not known), for netCDF-C's DAP2 char dimension

    def attributes(self, protocol: str) -> dict:
        """Attributes with `_FillValue`/`missing_value` in the variable's own type (netCDF-C requires it)."""
        own = self.dap2 if protocol == "dap2" else self.dap4
        out = {}
        for k, v in self.attrs.items():
            out[k] = (own, v) if k in _FILL_ATTRS and own != "String" else (None, v)
        if own in _UNSIGNED_DAP2 and "_Unsigned" not in out:
            # netCDF-C reads DAP2 Byte, UInt16 and UInt32 as signed types unless told (as THREDDS does)
            out["_Unsigned"] = ("String", "true")
        return out

    def values(self, piece: xr.Variable, protocol: str) -> np.ndarray:
        """The stored values of a loaded piece of `self.variable`, as the DAP type's numpy dtype (native order);
        strings as an object array of str."""
        if self.encoded is None:
            return np.asarray([_text(v) for v in np.asarray(piece.values).ravel()], dtype=object).reshape(piece.shape)
        raw = encode_values(self.name, piece, self.encoded)
        return np.asarray(raw).astype(NUMPY[self.dap2 if protocol == "dap2" else self.dap4], copy=False)


@dataclass
class DapDataset:
    name: str
    variables: dict[str, DapVar]  # dataset order: data variables, then coordinates
    attrs: dict
    dims: dict[str, int] = field(default_factory=dict)


def _text(v) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return "" if v is None else str(v)


def _types(name: str, var: xr.Variable, enc: Encoded) -> tuple[str, str]:
    dtype = np.dtype(enc.dtype)
    dap2, dap4 = _TYPES.get(f"{dtype.kind}{dtype.itemsize}", (None, None))
    if dap2 is None:
        raise TypeError(f"dtype {dtype} has no DAP type")
    if dtype.kind in "iu" and dtype.itemsize == 8 and isinstance(var.data, np.ndarray):
        values = encode_values(name, var, enc)  # in memory (coordinates): 32 bits when every value fits
        if values.size == 0 or (values.min() >= _I32.min and values.max() <= _I32.max):
            dap2 = "Int32"
    return dap2, dap4


def build(name: str, ds: xr.Dataset) -> DapDataset:
    """Describe every variable of `ds` (coordinates included, data variables first) for DAP2 and DAP4."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        variables, global_attrs = encode_dataset_coordinates(ds)
    order = [n for n in variables if n in ds.data_vars] + [n for n in variables if n not in ds.data_vars]
    out: dict[str, DapVar] = {}
    for vname in order:
        var = variables[vname]
        vname = str(vname)
        ready = cf_ready(var)
        try:
            if ready.dtype.kind in "OSU" and not _time_objects(ready):
                attrs = {k: v for k, v in ready.attrs.items() if k not in _FILL_ATTRS}
                out[vname] = DapVar(vname, tuple(map(str, ready.dims)), tuple(ready.shape), ready, None,
                                    "String", "String", attrs, _longest(ready))
                continue
            enc = learn(vname, ready)
            dap2, dap4 = _types(vname, ready, enc)
        except (TypeError, ValueError) as e:
            log.warning("opendap: variable %r of %r not published: %s", vname, name, e)
            continue
        attrs = _source_time_units(var, dict(enc.attrs))
        if enc.fill_value is not None and (_declares_fill(var) or not _is_nan(enc.fill_value)):
            attrs = {"_FillValue": enc.fill_value, **attrs}
        out[vname] = DapVar(vname, tuple(map(str, ready.dims)), tuple(ready.shape), ready, enc, dap2, dap4, attrs)
    dims = {str(d): int(n) for d, n in ds.sizes.items()}
    return DapDataset(name, out, dict(global_attrs), dims)


def _longest(var: xr.Variable) -> int:
    """The longest string of a text variable in UTF-8 bytes, read once (0 when it has more than STRLEN_SCAN values:
    netCDF-C then cuts its strings at its default 64 characters)."""
    if var.size == 0 or var.size > STRLEN_SCAN:
        return 0
    return max(len(_text(v).encode("utf-8")) for v in np.asarray(var.values).ravel())


def _declares_fill(var: xr.Variable) -> bool:
    """Whether the source gives the variable a `_FillValue` (xarray's encoder invents NaN for every float
    variable without one, coordinates included; the source's attributes do not have it)."""
    return "_FillValue" in var.encoding or "_FillValue" in var.attrs


def _is_nan(v) -> bool:
    try:
        return bool(np.isnan(v))
    except TypeError:
        return False


def _source_time_units(var: xr.Variable, attrs: dict) -> dict:
    """`units` spelled as the source spells them (xarray's encoder rewrites `days since 1850-1-1 00:00:00` as
    `days since 1850-01-01`) when both spellings name the same instants in the variable's calendar."""
    src, now = var.encoding.get("units"), attrs.get("units")
    if not isinstance(src, str) or not isinstance(now, str) or src == now or " since " not in now:
        return attrs
    calendar = attrs.get("calendar", "standard")
    try:
        same = list(cftime.num2date([0, 1], src, calendar)) == list(cftime.num2date([0, 1], now, calendar))
    except Exception:  # units cftime does not read (months since ...): keep the encoder's
        return attrs
    return {**attrs, "units": src} if same else attrs


def _time_objects(var: xr.Variable) -> bool:
    """cftime objects (an object array) are times, encoded as numbers, not strings."""
    if var.dtype.kind != "O" or var.size == 0:
        return False
    first = var[tuple(0 for _ in var.dims)].values if var.ndim else var.values
    return hasattr(np.asarray(first).item(), "calendar")


class ModelCache:
    """One DapDataset per collection, rebuilt when the collection's Dataset object is replaced."""

    def __init__(self):
        self._cache: dict[str, tuple[object, DapDataset]] = {}
        self._lock = threading.Lock()

    def get(self, collection) -> DapDataset:
        hit = self._cache.get(collection.id)
        if hit is not None and hit[0] is collection.ds:
            return hit[1]
        with self._lock:
            hit = self._cache.get(collection.id)
            if hit is not None and hit[0] is collection.ds:
                return hit[1]
            model = build(collection.id, collection.ds)
            self._cache[collection.id] = (collection.ds, model)
            return model
