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


def _plan(arr):
    """(cache block functions by layer name, tasks by key) for a graph this module can run, else None."""
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
        if not isinstance(layer, MaterializedLayer) or len(tasks) + len(layer) > MAX_TASKS:
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


def _blocks(arr, views: bool):
    """The computed blocks of `arr`, nested as `arr.__dask_keys__()`, or None (see `read`)."""
    plan = _plan(arr)
    if plan is None:
        return None
    blocks, tasks = plan
    done: dict = {}

    def value(key):
        if key in done:
            return done[key]
        fn = blocks.get(key[0]) if isinstance(key, tuple) else None
        if fn is not None:
            out = fn(block_id=key[1:])
        else:
            task = tasks[key]  # KeyError: a key of a layer not planned (cannot happen for a valid graph)
            out = _evaluate(task, {dep: value(dep) for dep in task.dependencies}, views)
        done[key] = out
        return out

    def nested(keys):
        return [nested(k) for k in keys] if isinstance(keys, list) else value(keys)

    try:
        return nested(arr.__dask_keys__())
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


def read_into(arr, dtype: np.dtype) -> np.ndarray | None:
    """The values of dask array `arr` (ndim >= 1) as a new C-contiguous array of `dtype` (e.g. big-endian
    for a NetCDF-3 file), each cached block copied once straight into its place — no per-block copies,
    no join, no second pass to convert. None when `read` would give None or a block is not what the
    graph declares (its dtype or shape), so the caller computes with dask and converts as before."""
    if not getattr(arr, "ndim", 0):
        return None
    parts = _blocks(arr, views=True)
    if parts is None:
        return None
    out = np.empty(arr.shape, dtype=dtype)
    edges = [np.concatenate([[0], np.cumsum(c)]) for c in arr.chunks]

    def place(part, at: tuple):
        if isinstance(part, list):
            for i, sub in enumerate(part):
                if not place(sub, at + (i,)):
                    return False
            return True
        region = tuple(slice(int(e[i]), int(e[i + 1])) for e, i in zip(edges, at))
        if not isinstance(part, np.ndarray) or part.dtype != arr.dtype or \
                part.shape != tuple(s.stop - s.start for s in region):
            return False
        out[region] = part
        return True

    return out if place(parts, ()) else None


__all__ = ["MAX_TASKS", "read", "read_into"]
