"""Binary answers, streamed block by block with bounded memory: DAP2 `.dods` (XDR) and DAP4 `.dap` (chunked).

Each variable's hyperslab is sliced lazily first (dask then reads only the source chunks it
touches), then read in blocks of about `BLOCK_BYTES` along its leading dimensions, encoded and
sent before the next block is read, so an answer of any size holds one block in memory.

DAP2 (DAP 2.0 section 7.3.2, XDR = RFC 4506): the DDS, `Data:\\n`, then per variable in DDS
order: arrays prefixed by their length twice (4-byte big-endian; String arrays once, as libdap,
netCDF-C and pydap read them), Byte arrays as packed bytes padded to 4 (a scalar Byte as one
4-byte unit), Int16/UInt16 widened to 4 bytes, floats IEEE big-endian, strings as length + bytes
padded to 4. DAP4 (volume 1 section 9): chunks with a 4-byte big-endian header (flags in the high
byte: 1 last, 2 error, 4 little-endian; 24-bit length), the DMR + CRLF in the first chunk, then
each variable's values little-endian with no count (strings: 8-byte count + UTF-8), each followed
by its CRC32 when the client asked for checksums (`dap4.checksum=true`).
"""

from __future__ import annotations

import logging
import struct
import zlib
from typing import Iterator

import numpy as np

from .. import dask_local
from .constraint import Hyperslab
from .model import DapVar

log = logging.getLogger("cubeserver.opendap")

BLOCK_BYTES = 8 << 20  # source values read per block
CHUNK_BYTES = 1 << 20  # DAP4 chunk payload (< 2**24)
_XDR = {"Byte": "u1", "Int16": ">i4", "UInt16": ">u4", "Int32": ">i4", "UInt32": ">u4", "Float32": ">f4",
        "Float64": ">f8"}
LAST, ERROR, LITTLE = 1, 2, 4


def blocks(shape: tuple[int, ...], itemsize: int, target: int = BLOCK_BYTES) -> Iterator[tuple[slice, ...]]:
    """Positional slices covering `shape` in C order, each about `target` bytes or less (one row at least)."""
    if not shape:
        yield ()
        return
    if 0 in shape:
        return
    trailing = itemsize
    axis = len(shape) - 1
    while axis > 0 and trailing * shape[axis] <= target:
        trailing *= shape[axis]
        axis -= 1
    if trailing * shape[axis] <= target:
        axis_step = shape[axis]
    else:
        axis_step = max(1, target // trailing)
    outer = shape[:axis]
    for index in np.ndindex(*outer) if outer else [()]:
        for start in range(0, shape[axis], axis_step):
            yield tuple(slice(i, i + 1) for i in index) + (slice(start, min(start + axis_step, shape[axis])),)


def _pieces(var: DapVar, slab: Hyperslab, protocol: str) -> Iterator[np.ndarray]:
    """The stored values of the hyperslab, block by block (flattened, C order)."""
    sub = var.variable[slab.slices] if var.variable.ndim else var.variable
    itemsize = max(1, var.variable.dtype.itemsize)
    for sl in blocks(tuple(sub.shape), itemsize):
        piece = sub[sl] if sl else sub
        piece = piece.load(scheduler=dask_local.sync)
        yield var.values(piece, protocol).ravel()


def _xdr_strings(values: np.ndarray) -> bytes:
    out = bytearray()
    for s in values:
        b = str(s).encode("utf-8")
        out += struct.pack(">I", len(b)) + b + b"\0" * (-len(b) % 4)
    return bytes(out)


def dods(dds_text: str, model_vars: dict[str, DapVar], slabs: list[Hyperslab]) -> Iterator[bytes]:
    """The `.dods` body: DDS, `Data:`, then the XDR values of every hyperslab."""
    yield dds_text.encode("utf-8") + b"Data:\n"
    for slab in slabs:
        var = model_vars[slab.name]
        n = slab.size
        if var.variable.ndim:  # libdap writes a String array's count once, every other array's twice
            yield struct.pack(">I", n) if var.dap2 == "String" else struct.pack(">II", n, n)
        written = 0
        for values in _pieces(var, slab, "dap2"):
            if var.dap2 == "String":
                yield _xdr_strings(values)
                continue
            data = values.astype(_XDR[var.dap2]).tobytes()
            if var.dap2 == "Byte" and not var.variable.ndim:
                # a scalar Byte fills a 4-byte XDR unit: libdap, netCDF-C and netCDF-Java read it as an int
                # (the value in the last byte), pydap's client reads the first byte; both hold the value
                data = data + b"\0\0" + data
            written += len(data)
            yield data
        if var.dap2 == "Byte" and var.variable.ndim and -written % 4:
            yield b"\0" * (-written % 4)  # a Byte array is packed, padded to 4


def _chunk(payload: bytes, flags: int) -> bytes:
    return struct.pack(">I", (flags << 24) | len(payload)) + payload


class _Chunker:
    """Collects bytes into DAP4 chunks of up to CHUNK_BYTES."""

    def __init__(self):
        self.buf = bytearray()

    def add(self, data: bytes) -> Iterator[bytes]:
        self.buf += data
        while len(self.buf) >= CHUNK_BYTES:
            yield _chunk(bytes(self.buf[:CHUNK_BYTES]), LITTLE)
            del self.buf[:CHUNK_BYTES]

    def last(self) -> bytes:
        out = _chunk(bytes(self.buf), LITTLE | LAST)
        self.buf.clear()
        return out


def dap(dmr_text: str, model_vars: dict[str, DapVar], slabs: list[Hyperslab], checksums: bool) -> Iterator[bytes]:
    """The `.dap` body: the DMR chunk, then data chunks, the last one flagged."""
    yield _chunk(dmr_text.encode("utf-8") + b"\r\n", LITTLE)
    out = _Chunker()
    for slab in slabs:
        var = model_vars[slab.name]
        crc = 0
        for values in _pieces(var, slab, "dap4"):
            if var.dap4 == "String":
                data = b"".join(struct.pack("<Q", len(b)) + b for b in (str(s).encode("utf-8") for s in values))
            else:
                data = values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes()
            if checksums:
                crc = zlib.crc32(data, crc)
            yield from out.add(data)
        if checksums:
            yield from out.add(struct.pack("<I", crc & 0xFFFFFFFF))
    yield out.last()


def dap4_error_chunk(message_xml: str) -> bytes:
    """An error chunk, sent when a read fails after the answer has started."""
    return _chunk(message_xml.encode("utf-8"), LITTLE | ERROR | LAST)


def ascii_rows(model_vars: dict[str, DapVar], slabs: list[Hyperslab]) -> Iterator[str]:
    """The `.ascii` answer: per variable a header line `name[n0][n1]...`, then one line per row of the
    last dimension (`name[i][j], v0, v1, ...`), stored values as in `.dods`."""
    for slab in slabs:
        var = model_vars[slab.name]
        shape = slab.shape
        yield f"{var.name}{''.join(f'[{n}]' for n in shape)}\n"
        flat = (v for values in _pieces(var, slab, "dap2") for v in values)
        if not shape:
            yield f"{_plain(next(flat), var)}\n\n"
            continue
        for index in np.ndindex(*shape[:-1]):
            vals = [_plain(next(flat), var) for _ in range(shape[-1])]
            yield var.name + "".join(f"[{i}]" for i in index) + ", " + ", ".join(vals) + "\n"
        yield "\n"


def _plain(v, var: DapVar) -> str:
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' if var.dap2 == "String" else str(v)
