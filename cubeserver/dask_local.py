"""dask's local schedulers, counted: what answers data requests in this process (`/metrics` reads the counts).

`threads` and `sync` are dask scheduler functions (`dask.compute(..., scheduler=threads)` or
`dask.config.set(scheduler=...)`); `install()` makes `threads` the process default so computations
that name no scheduler are counted too. Counted here rather than by a registered
`dask.callbacks.Callback`: dask's local scheduler swaps the process-global callback set out and back
for each computation, and two computations in two threads can leave it empty for good.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping

_counts: Counter = Counter()  # (kind, scheduler) -> n, for the whole process
_lock = threading.Lock()
_installed = False


def count(scheduler: str, tasks: int) -> None:
    """Book one computation of `tasks` tasks on `scheduler` ("local" or "distributed")."""
    with _lock:
        _counts[("computations", scheduler)] += 1
        _counts[("tasks", scheduler)] += tasks


def counts() -> dict:
    """A copy of the process counts: (kind, scheduler) -> n."""
    with _lock:
        return dict(_counts)


def _counted(dsk):
    """The task graph as a mapping (what dask's local scheduler would make of it), booked as one computation."""
    if not isinstance(dsk, Mapping):  # dask's graph expressions: materialized once, here instead of in get_async
        dsk = dsk.__dask_graph__()
    count("local", len(dsk))
    return dsk


def threads(dsk, keys, **kwargs):
    """dask's threaded scheduler, counted."""
    import dask.threaded

    return dask.threaded.get(_counted(dsk), keys, **kwargs)


def sync(dsk, keys, **kwargs):
    """dask's synchronous scheduler, counted (small graphs: no thread-pool hand-off)."""
    import dask.local

    return dask.local.get_sync(_counted(dsk), keys, **kwargs)


def local(chunks: int | None = None):
    """The counted local scheduler for a computation over `chunks` chunks: synchronous up to 4, else threads."""
    return sync if chunks is not None and chunks <= 4 else threads


def install() -> None:
    """Make the counted threaded scheduler this process's default (idempotent)."""
    global _installed
    import dask

    with _lock:
        if not _installed:
            dask.config.set(scheduler=threads)
            _installed = True
