"""Answers written slab by slab: reading slab k+1 (GIL released: decompression) overlaps encoding and sending
slab k, with memory bounded to a few slabs. Shared by the streamed CoverageJSON and NetCDF-3 writers.

A variable is cut along its first axis at the source's dask chunk boundaries, so every chunk is read
exactly once; `prefetched` reads the next slab in a helper pool while the caller encodes the current
one, and `ahead` runs the caller's blocking byte generator in a producer thread a few pieces ahead of
the socket.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Iterator

import numpy as np
import xarray as xr

from .. import dask_local
from ..sources import direct_read

# one shared helper pool: a thread per request would give each its own malloc arena (memory kept by the process)
_PREFETCH = ThreadPoolExecutor(max_workers=2, thread_name_prefix="slab-prefetch")
# encoders of streamed answers: at most this many encode at once, the others wait their turn (never a deadlock:
# consumers hold no thread); separate from the default pool that the non-streamed requests' work runs in
_PRODUCERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="slab-stream")
PIECE = 1 << 20  # bytes per ASGI message: 13 MB messages cost the HTTP layer twice the CPU of 1 MB ones


def slabs(var: xr.DataArray | xr.Variable, max_bytes: int | None = None) -> list[slice]:
    """Slices along the first axis at the dask chunk boundaries (one slab when not chunked); with
    `max_bytes`, an unchunked (in-memory) variable is cut into slabs of about that size instead."""
    if not var.ndim:
        return [slice(None)]
    if var.chunks:
        chunks = var.chunks[0]
    elif max_bytes and var.nbytes > max_bytes:
        step = max(1, int(var.shape[0] * max_bytes // var.nbytes))
        chunks = [min(step, var.shape[0] - a) for a in range(0, var.shape[0], step)]
    else:
        chunks = (var.shape[0],)
    edges = np.concatenate([[0], np.cumsum(chunks)])
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def ramped(cuts: list[slice], row_bytes: int, first: int | None = None, most: int | None = None) -> list[slice]:
    """`cuts` (slabs along the first axis) subdivided so that slab sizes start at about `first` bytes and
    double up to the cuts' own (or to `most` bytes): the first bytes of an answer go out after reading ~1 MB,
    not a whole row of chunks, while later slabs stay large (fewer hand-offs). Only for readers that take
    any rows of a chunk at no extra cost (cached chunks); cut boundaries are kept. `first` defaults to
    `PIECE`; a slab is at least one row."""
    out, target = [], max(PIECE if first is None else first, row_bytes, 1)
    for cut in cuts:
        a, b = cut.start, cut.stop
        while a < b:
            n = min(b - a, max(1, target // max(row_bytes, 1)))
            out.append(slice(a, a + n))
            a += n
            target = target * 2 if most is None else min(target * 2, max(most, row_bytes))
    return out


def read(slab: xr.DataArray | xr.Variable) -> np.ndarray:
    """One slab's values: cached chunks directly (`sources.direct_read`), else with dask's local threads
    (never a distributed client)."""
    data = slab.data
    if hasattr(data, "compute"):
        direct = direct_read.read(data)
        if direct is not None:
            dask_local.count("local", 1)
            return direct
        return np.asarray(data.compute(scheduler=dask_local.threads))
    return np.asarray(data)


def read_as(slab: xr.DataArray | xr.Variable, dtype: np.dtype) -> np.ndarray:
    """One slab's values as a new C-contiguous array of `dtype` (a NetCDF-3 file's big-endian type):
    cached chunks copied once into place (`direct_read.read_into`), else `read` and a conversion."""
    data = slab.data
    if hasattr(data, "compute"):
        direct = direct_read.read_into(data, dtype)
        if direct is not None:
            dask_local.count("local", 1)
            return direct
    return np.ascontiguousarray(read(slab).astype(dtype, copy=False))


def prefetched(parts: list, pool: ThreadPoolExecutor = _PREFETCH, reader=read) -> Iterator[np.ndarray]:
    """`reader`'s values (default `read`) of each lazy part in order; part k+1 is being read (prefetch pool)
    while the caller works on part k. Closing the generator early cancels the pending read."""
    pending = None
    try:
        pending = pool.submit(reader, parts[0]) if parts else None
        for k in range(len(parts)):
            values = pending.result()
            pending = pool.submit(reader, parts[k + 1]) if k + 1 < len(parts) else None
            yield values
    finally:
        if pending is not None:
            pending.cancel()  # client gone: do not read a slab nobody will receive


async def ahead(chunks: Iterator[bytes], depth: int = 2):
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
            if type(piece) is bytes and len(piece) <= PIECE:
                yield piece  # h11 sends an exact bytes body piece as it is (a memoryview it copies by joining)
                continue
            view = memoryview(piece)
            for start in range(0, len(view), PIECE):
                yield view[start:start + PIECE]
    finally:
        stop.set()
        while not q.empty():  # unblock a producer waiting on a full queue
            q.get_nowait()
        if producer.done() or not producer.cancel():  # not started yet: cancelled; else wait for it to see `stop`
            await asyncio.shield(producer)


_DONE = object()
