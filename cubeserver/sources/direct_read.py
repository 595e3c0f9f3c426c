"""Read a small selection of cached chunks without dask's scheduler (#15 item 6: a fast path for small queries).

A point or a short series from a collection served through the chunk cache (`sources.chunk_cache`) is, as a
dask graph, the cache's `map_blocks` layer plus one or two materialized layers of indexing tasks (`getitem`,
`Alias`). Computing that with `dask.compute` costs about a millisecond of graph optimisation, tokenizing and
scheduling for microseconds of numpy indexing: most of a point request's CPU time. `read(arr)` runs the
same tasks itself (each dask task is callable with its inputs, `dask._task_spec`), taking the cached chunks
straight from the cache's block function, so the values, dtypes and chunk versions are exactly what dask
would have produced; anything else (a lazy source not behind the cache, a `Blockwise` layer, more than
`MAX_TASKS` tasks) returns None and the caller computes with dask as before.
"""

from __future__ import annotations

import numpy as np

MAX_TASKS = 64  # larger selections gain little here and may profit from dask's threads


def _plan(arr, max_tasks: int = MAX_TASKS):
    """(cache block functions by layer name, tasks by key) for a graph this module can run with at most
    `max_tasks` tasks, else None."""
    from dask._task_spec import GraphNode
    from dask.highlevelgraph import HighLevelGraph, MaterializedLayer

    from .chunk_cache import block_function

    graph = getattr(arr, "dask", None)
    if not isinstance(graph, HighLevelGraph):
        return None
    blocks, tasks = {}, {}
    for name, layer in graph.layers.items():
        fn = block_function(name)
        if fn is not None:
            blocks[name] = fn
            continue
        if not isinstance(layer, MaterializedLayer) or len(tasks) + len(layer) > max_tasks:
            return None
        for key, task in layer.mapping.items():
            if not isinstance(task, GraphNode):  # a legacy tuple task: leave it to dask
                return None
            tasks[key] = task
    return (blocks, tasks) if blocks else None


def _evaluate(task, values: dict, views: bool):
    """Run one task on its inputs. With `views`, dask's `chunk.getitem` is plain numpy indexing (a view):
    dask copies a small part out of a large chunk so as not to keep the chunk alive, which costs a copy
    here for nothing when the caller copies every block into its own output anyway."""
    from dask._task_spec import GraphNode, TaskRef
    from dask.array.chunk import getitem

    if views and getattr(task, "func", None) is getitem and len(task.args) == 2 and not task.kwargs:
        obj, index = (values[a.key] if isinstance(a, TaskRef)
                      else a({k: values[k] for k in a.dependencies}) if isinstance(a, GraphNode) else a
                      for a in task.args)
        return obj[index]
    return task({dep: values[dep] for dep in task.dependencies})


class NotCached(LookupError):
    """A chunk a cached-only read needs is not in the chunk cache (its current version)."""


class _Evaluator:
    """Runs the planned tasks of a graph on demand, each once (`value(key)`), nested as dask keys are.
    `cached_only`: chunks are taken only from the cache, NotCached when one is not there."""

    def __init__(self, plan, views: bool):
        self.blocks, self.tasks = plan
        self.views = views
        self.cached_only = False
        self.done: dict = {}

    def value(self, key):
        if key in self.done:
            return self.done[key]
        fn = self.blocks.get(key[0]) if isinstance(key, tuple) else None
        if fn is not None:
            out = fn.peek(key[1:]) if self.cached_only else fn(block_id=key[1:])
            if out is None:
                raise NotCached(key)
        else:
            task = self.tasks[key]  # KeyError: a key of a layer not planned (cannot happen for a valid graph)
            out = _evaluate(task, {dep: self.value(dep) for dep in task.dependencies}, self.views)
        self.done[key] = out
        return out

    def nested(self, keys):
        return [self.nested(k) for k in keys] if isinstance(keys, list) else self.value(keys)


def _blocks(arr, views: bool):
    """The computed blocks of `arr`, nested as `arr.__dask_keys__()`, or None (see `read`)."""
    plan = _plan(arr)
    if plan is None:
        return None
    try:
        return _Evaluator(plan, views).nested(arr.__dask_keys__())
    except KeyError:
        return None


def read(arr) -> np.ndarray | None:
    """The values of dask array `arr` (any shape) read through the chunk cache without dask's scheduler,
    or None when its graph is not a small indexing of cached chunks. Raises what reading a chunk raises
    (the same errors `dask.compute` would give)."""
    from dask.array.core import finalize

    parts = _blocks(arr, views=False)
    if parts is None:
        return None
    out = np.asarray(finalize(parts))  # as dask.compute: chunks joined, a single chunk copied
    if out.shape != arr.shape or out.dtype != arr.dtype:
        return None
    return out


class RowReader:
    """Ranges of rows (first-axis positions) of a dask array (ndim >= 1) served by the chunk cache, each read
    as a new C-contiguous array of a given dtype (e.g. big-endian for a NetCDF-3 file) by copying every
    cached block's part once straight into place: no dask slicing per range, no join, no second pass to
    convert. A block is taken from the cache (and its indexing task run, as a view) once for all the ranges
    starting in the same row of blocks (the slabs of one chunk see one version of it) and let go when a range
    starts further on, so a streamed answer holds at most about one row of blocks besides the cache.
    Build with `rows(arr)`."""

    def __init__(self, arr, plan):
        self.arr = arr
        self._eval = _Evaluator(plan, views=True)
        self._keys = arr.__dask_keys__()
        self.edges = [np.concatenate([[0], np.cumsum(c)]).astype("int64") for c in arr.chunks]
        self._row = -1  # the row of blocks the kept blocks were taken for

    def read_into(self, rows: slice, dtype: np.dtype, cached_only: bool = False) -> np.ndarray | None:
        """Rows `rows` (a slice with step 1 within the first axis) as a new array of `dtype`, or None when a
        block is not what the graph declares (its dtype or shape): the caller computes with dask instead.
        `cached_only`: NotCached rather than reading a chunk the cache does not hold (for callers on the
        event loop). Raises what reading a chunk raises."""
        self._eval.cached_only = cached_only
        arr, edges0 = self.arr, self.edges[0]
        start, stop, _ = rows.indices(arr.shape[0])
        out = np.empty((max(0, stop - start),) + tuple(arr.shape[1:]), dtype=dtype)
        first = int(np.searchsorted(edges0, start, side="right")) - 1
        if first != self._row:
            self._eval.done.clear()
            self._row = first
        for b in range(max(first, 0), len(edges0) - 1):
            lo, hi = int(edges0[b]), int(edges0[b + 1])
            if lo >= stop:
                break
            local = slice(max(start, lo) - lo, min(stop, hi) - lo)
            target = slice(max(start, lo) - start, min(stop, hi) - start)
            try:
                part = self._eval.nested(self._keys[b])
            except KeyError:
                return None
            if not self._place(out, part, (b,), local, target):
                return None
        return out

    def all_cached(self) -> bool:
        """True when the cache holds every chunk of the array now (nothing is read to find out)."""
        self._eval.cached_only, self._row = True, -1
        try:
            self._eval.nested(self._keys)
            return True
        except (NotCached, KeyError):
            return False
        finally:
            self._eval.done.clear()

    def _place(self, out: np.ndarray, part, at: tuple, local: slice, target: slice) -> bool:
        if isinstance(part, list):
            return all(self._place(out, sub, at + (i,), local, target) for i, sub in enumerate(part))
        region = tuple(slice(int(e[i]), int(e[i + 1])) for e, i in zip(self.edges[1:], at[1:]))
        declared = (int(self.edges[0][at[0] + 1] - self.edges[0][at[0]]),) + tuple(r.stop - r.start for r in region)
        if not isinstance(part, np.ndarray) or part.dtype != self.arr.dtype or part.shape != declared:
            return False
        out[(target,) + region] = part[local]
        return True


def rows(arr, max_tasks: int = 4096) -> RowReader | None:
    """A `RowReader` of dask array `arr` (ndim >= 1), or None when its graph is not an indexing of cached
    chunks with at most `max_tasks` tasks (larger: dask's scheduler is no slower than planning)."""
    if not getattr(arr, "ndim", 0):
        return None
    plan = _plan(arr, max_tasks)
    return RowReader(arr, plan) if plan is not None else None


def read_into(arr, dtype: np.dtype) -> np.ndarray | None:
    """The values of dask array `arr` (ndim >= 1) as a new C-contiguous array of `dtype`, each cached block
    copied once into place (`RowReader` over all rows); None when `read` would give None or a block is
    not what the graph declares, so the caller computes with dask and converts as before."""
    reader = rows(arr, MAX_TASKS)
    return reader.read_into(slice(None), dtype) if reader is not None else None


__all__ = ["MAX_TASKS", "NotCached", "RowReader", "read", "read_into", "rows"]
