"""Large Grid answers as streamed CoverageJSON: read slab k+1 while slab k is encoded and sent.

For a few million values the time goes to reading chunks (GIL released: decompression)
and to writing numbers (orjson, GIL held). Doing them one after the other wastes a
core; here the Dataset is cut into slabs along its first axis at the source's chunk
boundaries (so every chunk is still read exactly once), a helper thread computes the
next slab while this one is encoded, and bytes leave as soon as they exist. Memory
stays at a couple of slabs instead of the whole answer plus its JSON.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Iterator

import numpy as np
import orjson
import xarray as xr
from starlette.responses import StreamingResponse

from ..axes import AxisModel
from .. import dask_local
from .covjson import MEDIA_TYPE, domain_axes, number_text, parameters, referencing

log = logging.getLogger("cubeserver")
STREAM_MIN_VALUES = 1_000_000
# one shared helper pool: a thread per request would give each its own malloc arena (memory kept by the process)
_PREFETCH = ThreadPoolExecutor(max_workers=2, thread_name_prefix="covjson-prefetch")
# encoders of streamed answers: at most this many encode at once, the others wait their turn (never a deadlock:
# consumers hold no thread); separate from the default pool that the non-streamed requests' work runs in
_PRODUCERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="covjson-stream")
_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
PIECE = 1 << 20  # bytes per ASGI message: 13 MB messages cost the HTTP layer twice the CPU of 1 MB ones


def streamable(ds: xr.Dataset, axes: AxisModel) -> bool:
    """Big float grids without extra dimensions (those become a CoverageCollection, built in memory)."""
    if axes.curvilinear is not None:
        return False  # cells with 2-D lat/lon are listed one by one (encode/covjson_cells.py), not a Grid
    if any(d in ds.dims for d in axes.others):
        return False
    if any(v.dtype.kind != "f" for v in ds.data_vars.values()):
        return False  # integer nodata needs the whole slab to choose integer vs float: not worth streaming
    return sum(v.size for v in ds.data_vars.values()) >= STREAM_MIN_VALUES


def _marker(i: int) -> str:
    return f"@@cubeserver-values-{i}@@"


def _skeleton(ds: xr.Dataset, axes: AxisModel) -> tuple[list[bytes], list[tuple[xr.DataArray, list[str]]]]:
    """The coverage JSON cut where each range's values go, and the (lazy) variables to fill in."""
    cov_axes, names, dims = domain_axes(ds, axes)
    ranges, lazy = {}, []
    for i, (n, v) in enumerate(ds.data_vars.items()):
        var = v.transpose(*dims)
        ranges[str(n)] = {"type": "NdArray", "dataType": "float", "axisNames": names, "shape": list(var.shape),
                          "values": _marker(i)}
        lazy.append((var, dims))
    doc = {
        "type": "Coverage",
        "domain": {"type": "Domain", "domainType": "Grid", "axes": cov_axes,
                   "referencing": referencing(axes, "z" in names, "t" in names)},
        "parameters": parameters(ds),
        "ranges": ranges,
    }
    body = orjson.dumps(doc, option=_OPTS)
    pieces = []  # pieces[i] opens range i's values ("...[" after closing the previous "]"), the last closes
    for i in range(len(lazy)):
        head, body = body.split(b'"' + _marker(i).encode() + b'"', 1)
        pieces.append((b"]" if i else b"") + head + b"[")
    pieces.append(b"]" + body)
    return pieces, lazy


def _slabs(var: xr.DataArray) -> list[slice]:
    """Slices along the first axis at the dask chunk boundaries (one slab when not chunked)."""
    chunks = var.chunks[0] if var.chunks else (var.shape[0],)
    edges = np.concatenate([[0], np.cumsum(chunks)])
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _read(slab: xr.DataArray) -> np.ndarray:
    """One slab's values, with dask's local threads (never a distributed client)."""
    data = slab.data
    if hasattr(data, "compute"):
        return np.asarray(data.compute(scheduler=dask_local.threads))
    return np.asarray(data)


def _values(arr: np.ndarray) -> memoryview:
    """The numbers of one slab, comma-separated, without the brackets (a view: no copy); NaN -> null;
    as `covjson.number_text` writes them (whole floats without `.0`)."""
    return memoryview(number_text(arr))[1:-1]


def _generate(pieces: list[bytes], lazy: list,
              pool: ThreadPoolExecutor = _PREFETCH) -> Iterator[bytes | memoryview]:
    """The document's bytes in order; slab k+1 is being read (prefetch pool) while slab k is encoded."""
    jobs = [(i, var.isel({var.dims[0]: s})) for i, (var, _) in enumerate(lazy) for s in _slabs(var)]
    pending = None
    try:
        pending = pool.submit(_read, jobs[0][1]) if jobs else None
        current = None
        for k, (i, _) in enumerate(jobs):
            slab = pending.result()
            pending = pool.submit(_read, jobs[k + 1][1]) if k + 1 < len(jobs) else None
            if current != i:
                yield pieces[i]
                current = i
            else:
                yield b","
            yield _values(slab)
        yield pieces[-1]
    except Exception:
        log.exception("streamed CoverageJSON aborted; the client gets a truncated body")
        raise
    finally:
        if pending is not None:
            pending.cancel()  # client gone: do not read a slab nobody will receive


async def _ahead(chunks: Iterator[bytes], depth: int = 2):
    """Run a blocking byte generator in a producer thread, up to `depth` pieces ahead of the socket.

    Starlette pulls the next piece only once the previous one is fully sent; encoding in a
    producer thread lets slab k+1 be encoded while slab k is on the wire. Only the producer
    holds a thread (from `_PRODUCERS`, bounded); the consumer awaits an asyncio queue, so any
    number of concurrent answers make progress: the ones beyond the pool wait for a producer
    instead of holding threads that the running ones need (which hung 8 concurrent answers).
    """
    loop = asyncio.get_running_loop()
    q: asyncio.Queue = asyncio.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item) -> bool:
        """Put (blocking this thread while the queue is full) unless the consumer has gone."""
        fut = asyncio.run_coroutine_threadsafe(q.put(item), loop)
        while True:
            try:
                fut.result(timeout=0.2)
                return True
            except FutureTimeout:
                if stop.is_set():
                    fut.cancel()
                    return False

    def produce():
        try:
            for piece in chunks:
                if stop.is_set() or not offer(piece):
                    return
            offer(_DONE)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, which re-raises
            offer(e)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    producer = loop.run_in_executor(_PRODUCERS, produce)
    try:
        while True:
            piece = await q.get()
            if piece is _DONE:
                break
            if isinstance(piece, BaseException):
                raise piece
            view = memoryview(piece)
            for start in range(0, len(view), PIECE):
                yield view[start:start + PIECE]  # no copy here: uvicorn joins it with the chunk header
    finally:
        stop.set()
        while not q.empty():  # unblock a producer waiting on a full queue
            q.get_nowait()
        if producer.done() or not producer.cancel():  # not started yet: cancelled; else wait for it to see `stop`
            await asyncio.shield(producer)


_DONE = object()


def stream_grid(ds: xr.Dataset, axes: AxisModel) -> StreamingResponse:
    """A StreamingResponse of one Grid coverage: read, encode and send overlap, one slab each."""
    pieces, lazy = _skeleton(ds, axes)
    return StreamingResponse(_ahead(_generate(pieces, lazy)), media_type=MEDIA_TYPE)
