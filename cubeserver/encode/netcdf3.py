"""NetCDF-3 answers (64-bit offset, CDF-2) streamed: the header first, then each variable slab by slab.

Layout: NetCDF Classic Format Specification (netCDF Users Guide, "File Format Specifications"):
`'CDF' 0x02`, numrecs, dim_list, gatt_list, var_list (name, dimids, attributes, nc_type, vsize,
64-bit begin), then every variable's values, big-endian, contiguous at its `begin`, padded to 4
bytes with its fill value. No record (unlimited) dimension: every variable is fixed-size, so the
header, each offset and the file's length are known before a value is read (Content-Length).

What the bytes mean is decided by xarray, as for its own netCDF-3 writer: CF encoding
(`conventions.encode_dataset_coordinates`, `cf_encoder`: time units and calendars, packing, fill
values) and netCDF-3 coercion (`backends.netcdf3`: strings as char arrays, int64/unsigned to the
classic types only when every value survives). Only the byte layout is written here, because
scipy's writer (what xarray's `engine="scipy"` uses) keeps the whole file in memory, with several
copies, and cannot start sending before the last value is read. The tests compare the bytes with
scipy's for every bundled grid.

Raises `NotClassic` (before anything is sent) when the data do not fit the classic model; the
caller then writes NetCDF-4.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import xarray as xr

from .. import dask_local
from ..sources import direct_read
from .slabs import _PREFETCH, PIECE, prefetched, ramped, read_as, slabs

MAGIC = b"CDF\x02"
ABSENT = b"\0" * 8
NC_DIMENSION, NC_VARIABLE, NC_ATTRIBUTE = 10, 11, 12
# nc_type codes and the default fill values of the format (netcdf.h NC_FILL_*)
NC_TYPES = {"i1": 1, "S1": 2, "i2": 3, "i4": 4, "f4": 5, "f8": 6}
DEFAULT_FILL = {"i1": np.int8(-127), "S1": np.bytes_(b"\0"), "i2": np.int16(-32767), "i4": np.int32(-2147483647),
                "f4": np.float32(9.9692099683868690e36), "f8": np.float64(9.9692099683868690e36)}
VSIZE_MAX = 2**32 - 4  # vsize is a 32-bit field
SLAB_BYTES = 4 << 20  # in-memory variables are sent in pieces of about this size


class NotClassic(ValueError):
    """The dataset cannot be written as NetCDF-3 without changing it (write NetCDF-4 instead)."""


def _kind(dtype: np.dtype) -> str:
    return "S1" if dtype.kind == "S" else f"{dtype.kind}{dtype.itemsize}"


def _int(n: int) -> bytes:
    return struct.pack(">i", n)


def _padded(b: bytes, fill: bytes = b"\0") -> bytes:
    return b + fill * (-len(b) % 4)


def _name(name: str) -> bytes:
    raw = name.encode("utf-8")
    return _int(len(raw)) + _padded(raw)


def _attributes(attrs: dict) -> bytes:
    if not attrs:
        return ABSENT
    out = [_int(NC_ATTRIBUTE), _int(len(attrs))]
    for key, value in attrs.items():
        if isinstance(value, bytes):
            out += [_name(key), _int(NC_TYPES["S1"]), _int(len(value)), _padded(value)]
            continue
        arr = np.asarray(value)
        kind = _kind(arr.dtype)
        if kind not in NC_TYPES or arr.ndim != 1:
            raise NotClassic(f"attribute {key!r} of type {arr.dtype} has no netCDF-3 type")
        data = arr.astype(arr.dtype.newbyteorder(">")).tobytes()
        out += [_name(key), _int(NC_TYPES[kind]), _int(arr.size), _padded(data)]
    return b"".join(out)


def _encoded(ds: xr.Dataset) -> tuple[dict[str, xr.Variable], dict, dict[str, xr.Variable]]:
    """xarray's CF + netCDF-3 encoding of `ds` (what `to_netcdf(engine="scipy")` would store): the encoded
    variables, the global attributes, and the variables before their CF encoding (decoded values)."""
    from xarray import conventions
    from xarray.backends import netcdf3
    from xarray.backends.common import ensure_dtype_not_object

    for name, v in ds.variables.items():
        if str(v.dtype) in netcdf3._nc3_dtype_coercions and not isinstance(v.data, np.ndarray):
            raise NotClassic(f"{name}: lazy {v.dtype} values would have to be read to know if they fit netCDF-3")
    try:
        variables, attrs = conventions.encode_dataset_coordinates(ds)
        decoded = dict(variables)
        variables, attrs = conventions.cf_encoder(variables, attrs)
        variables = {k: netcdf3.encode_nc3_variable(ensure_dtype_not_object(v, name=k), name=k)
                     for k, v in variables.items()}
        attrs = netcdf3.encode_nc3_attrs(attrs)
    except (ValueError, TypeError, OverflowError) as e:
        raise NotClassic(str(e)) from None
    names = [*variables, *attrs, *(a for v in variables.values() for a in v.attrs),
             *(d for v in variables.values() for d in v.dims)]
    bad = [str(n) for n in names if not netcdf3.is_valid_nc3_name(n)]
    if bad:
        raise NotClassic(f"names netCDF-3 does not allow: {', '.join(map(repr, bad[:5]))}")
    return variables, attrs, decoded


def _fill_bytes(var: xr.Variable, kind: str) -> bytes:
    """One value of padding: the variable's own _FillValue when it has one of its type, else the default."""
    dtype = np.dtype("S1") if kind == "S1" else np.dtype(kind).newbyteorder(">")
    fill = var.attrs.get("_FillValue")
    if fill is not None and not isinstance(fill, bytes) and np.asarray(fill).size == 1:
        return np.asarray(fill).astype(dtype).reshape(()).tobytes()
    return np.asarray(DEFAULT_FILL[kind]).astype(dtype).tobytes()


@dataclass
class Layout:
    """Header bytes, the variables in file order with their padded sizes, and the file's length."""

    header: bytes
    variables: list[tuple[xr.Variable, int, bytes]]  # (encoded variable, vsize, one padding value)
    size: int
    decoded: list[tuple[str, xr.Variable | None]] = field(default_factory=list)  # name, before CF encoding


def layout(ds: xr.Dataset) -> Layout:
    """Plan the file of `ds` (lazy or loaded). Reads no numeric variable (lazy strings are loaded to size their
    characters, as xarray does). Raises NotClassic."""
    variables, attrs, decoded = _encoded(ds)
    dims: dict[str, int] = {}
    for v in variables.values():
        for d, n in v.sizes.items():
            dims.setdefault(str(d), int(n))
    if any(n == 0 for n in dims.values()):
        raise NotClassic("a dimension of length 0 would be the record dimension in netCDF-3")
    dim_ids = {d: i for i, d in enumerate(dims)}
    entries = []
    for name, v in variables.items():
        kind = _kind(v.dtype)
        if kind not in NC_TYPES:
            raise NotClassic(f"{name}: {v.dtype} has no netCDF-3 type")
        vsize = int(np.prod(v.shape, dtype="int64")) * v.dtype.itemsize
        vsize += -vsize % 4
        if vsize > VSIZE_MAX:
            raise NotClassic(f"{name}: {vsize:,} bytes, more than a netCDF-3 variable holds")
        head = (_name(str(name)) + _int(v.ndim) + b"".join(_int(dim_ids[str(d)]) for d in v.dims)
                + _attributes(v.attrs) + _int(NC_TYPES[kind]) + _int(vsize))
        entries.append((head, v, vsize, _fill_bytes(v, kind)))
    dim_list = (_int(NC_DIMENSION) + _int(len(dims)) + b"".join(_name(d) + _int(n) for d, n in dims.items())
                if dims else ABSENT)
    var_head = _int(NC_VARIABLE) + _int(len(entries)) if entries else ABSENT
    fixed = MAGIC + _int(0) + dim_list + _attributes(attrs) + var_head
    begin = len(fixed) + sum(len(head) + 8 for head, *_ in entries)
    parts, planned = [fixed], []
    for head, v, vsize, fill in entries:
        parts.append(head + struct.pack(">q", begin))
        planned.append((v, vsize, fill))
        begin += vsize
    return Layout(b"".join(parts), planned, begin, [(str(k), decoded.get(k)) for k in variables])


def _file_dtype(dtype: np.dtype) -> np.dtype:
    """The type values are written with: the variable's dtype, big-endian. It comes from the variable, not
    the values: a lazily encoded variable may compute to another one (CF-encoded cftime bounds declared
    float64 computed to int64, which written as such read back as garbage)."""
    return dtype if dtype.kind == "S" else dtype.newbyteorder(">")


class _SlabEncoder:
    """xarray's CF + netCDF-3 encoding (`conventions.encode_cf_variable`, `encode_nc3_variable`) of one slab of
    a variable's decoded values, checked against the whole variable's encoding: the same type and the same
    attributes (fill value, packing, time units), else None and the slab is computed with dask. CF encoding is
    value by value (masking, packing, times in fixed units), so a slab's encoding is its part of the whole."""

    def __init__(self, name: str, decoded: xr.Variable, encoded: xr.Variable):
        self.name, self.decoded = name, decoded
        self.dtype, self.attributes = encoded.dtype, _attributes(encoded.attrs)

    def __call__(self, values: np.ndarray, file_dtype: np.dtype) -> np.ndarray | None:
        from xarray import conventions
        from xarray.backends import netcdf3

        slab = xr.Variable(self.decoded.dims, values, self.decoded.attrs, self.decoded.encoding)
        try:
            enc = netcdf3.encode_nc3_variable(conventions.encode_cf_variable(slab, name=self.name), name=self.name)
            same = enc.dtype == self.dtype and _attributes(enc.attrs) == self.attributes
        except (ValueError, TypeError, OverflowError):  # NotClassic is a ValueError
            return None
        return np.asarray(enc.data).astype(file_dtype, order="C") if same else None


def _jobs(v: xr.Variable, name: str, decoded: xr.Variable | None, most: int | None = None) -> list[tuple]:
    """The slabs of one encoded variable as read jobs (variable, rows, file dtype, row reader, slab encoder).
    Cached chunks are read by one `direct_read.RowReader` for the whole variable (no dask slicing per slab),
    in slabs growing from ~1 MB (`ramped`): the encoded variable's own when its CF encoding left the values
    as they are, else the decoded variable's, each slab then encoded like the whole (`_SlabEncoder`: fill
    values, packing). Anything else is computed slab by slab with dask at the chunk boundaries. `most`: no
    slab of the row reader or of an in-memory variable over about that many bytes."""
    dtype = _file_dtype(v.dtype)
    if not v.ndim:
        return [(v, None, dtype, None, None)]
    cuts = slabs(v, SLAB_BYTES if most is None else most)
    reader = direct_read.rows(v.data) if v.chunks else None
    encoder = None
    if reader is None and decoded is not None and decoded.chunks and decoded.dims == v.dims \
            and decoded.shape == v.shape and decoded.dtype.kind in "biufcmM":
        reader = direct_read.rows(decoded.data)
        encoder = _SlabEncoder(name, decoded, v) if reader is not None else None
    if reader is not None:
        cuts = ramped(cuts, v.dtype.itemsize * int(np.prod(v.shape[1:], dtype="int64")), most=most)
    return [(v, cut, dtype, reader, encoder) for cut in cuts]


def _read_slab(job: tuple, cached_only: bool = False) -> np.ndarray | None:
    """A job's values, converted to the file dtype, C-contiguous (one copy from cached chunks when the values
    need no CF encoding). `cached_only` (on the event loop): None instead of reading anything the chunk
    cache does not hold decoded, or computing with dask."""
    v, rows, dtype, reader, encoder = job
    if reader is not None:
        try:
            values = reader.read_into(rows, dtype if encoder is None else reader.arr.dtype, cached_only)
        except direct_read.NotCached:
            return None
        if values is not None and encoder is not None:
            values = encoder(values, dtype)
        if values is not None:
            dask_local.count("local", 1)
            return values
    if cached_only and not isinstance(v.data, np.ndarray):
        return None
    return read_as(v[rows] if rows is not None else v, dtype)


def _variables(plan: Layout):
    """(index, encoded variable, vsize, padding value, name, decoded variable) in file order."""
    decoded = plan.decoded or [(None, None)] * len(plan.variables)
    for i, ((v, vsize, fill), (name, raw)) in enumerate(zip(plan.variables, decoded)):
        yield i, v, vsize, fill, name, raw


def cached(plan: Layout) -> bool:
    """True when every value of the file is in memory now: numpy variables, and dask variables read by rows
    whose chunks the cache holds (checked without reading anything)."""
    for _, v, _, _, name, raw in _variables(plan):
        if isinstance(v.data, np.ndarray) or not v.ndim:
            continue
        jobs = _jobs(v, name, raw)
        if not jobs or jobs[0][3] is None or not jobs[0][3].all_cached():
            return False
    return True


async def stream(plan: Layout):
    """`body`'s bytes for a file whose values are all in memory (`cached`): slabs of about `PIECE` bytes copied
    from the chunk cache on the event loop, between sends (no producer thread: a reader thread would wait
    for the GIL that the loop holds while sending, and the reads and sends ran one after the other). A
    chunk evicted meanwhile is read in a worker thread."""
    loop = asyncio.get_running_loop()
    yield plan.header
    for _, v, vsize, fill, name, raw in _variables(plan):
        written = 0
        row_bytes = v.dtype.itemsize * int(np.prod(v.shape[1:], dtype="int64")) if v.ndim else v.nbytes
        for job in _jobs(v, name, raw, most=PIECE):
            # a slab of rows larger than a few pieces (one GRIB field is a single 10+ MB row) is read in a
            # worker thread: the loop never copies more than about PIECE bytes between two sends
            big = job[1] is not None and (job[1].stop - job[1].start) * row_bytes > 2 * PIECE
            values = None if big else _read_slab(job, cached_only=True)
            if values is None:
                values = await loop.run_in_executor(_PREFETCH, _read_slab, job)
            data = memoryview(values.reshape(-1)).cast("B")
            written += len(data)
            for start in range(0, len(data), PIECE):
                yield data[start:start + PIECE]
        if vsize > written:
            yield (fill * vsize)[:vsize - written]


def body(plan: Layout) -> Iterator[bytes | memoryview]:
    """The file's bytes in order: header, then each variable's slabs (read one ahead), then its padding."""
    yield plan.header
    jobs = [(i, job) for i, v, _, _, name, raw in _variables(plan) for job in _jobs(v, name, raw)]
    written = [0] * len(plan.variables)
    for (i, _), values in zip(jobs, prefetched([job for _, job in jobs], reader=_read_slab)):
        v, vsize, fill = plan.variables[i]
        data = memoryview(values.reshape(-1)).cast("B")
        written[i] += len(data)
        yield data
        if written[i] == v.size * v.dtype.itemsize and vsize > written[i]:  # after its last slab: the padding
            yield (fill * vsize)[:vsize - written[i]]
