"""The dask.distributed side of jobs: one Client, computations with progress and cancel.

The Client is created on first use, so servers (and tests) that never run a dask
process pay nothing. It is never set as the default scheduler: EDR and Coverages keep
reading with the local threaded scheduler and only jobs go to the cluster.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from ..config import DaskConfig
from .errors import Cancelled

log = logging.getLogger("cubeserver.processes")

POLL_SECONDS = 0.25

# dask starts workers with MALLOC_TRIM_THRESHOLD_=64KiB, which also turns off glibc's adaptive mmap
# threshold: every chunk-sized array becomes a fresh mmap that page-faults, and chunk reads run 2-3x
# slower than in-process. Chunks up to 64 MiB from the heap, and free heap kept up to 16 MiB, restore
# the speed. Only for workers with at least 1 GiB: under tighter limits the retained heap can keep a
# worker above its pause threshold for good, so dask's setting stays. The server's environment wins.
FAST_MALLOC_MIN_LIMIT = 2**30
WORKER_MALLOC = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 16 * 2**20,
                 "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 64 * 2**20}


class DaskRunner:
    def __init__(self, cfg: DaskConfig):
        self.cfg = cfg
        self._client = None
        self._cluster = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._client is not None

    def client(self):
        """The Client, connecting to `scheduler_address` or starting a LocalCluster once."""
        with self._lock:
            if self._client is None:
                import dask
                from distributed import Client, LocalCluster

                if self.cfg.scheduler_address:
                    self._client = Client(self.cfg.scheduler_address, set_as_default=False, timeout="30s")
                else:
                    with dask.config.set(WORKER_MALLOC if _roomy(self.cfg.memory_limit) else {}):
                        self._cluster = LocalCluster(
                            n_workers=self.cfg.workers, threads_per_worker=self.cfg.threads_per_worker,
                            memory_limit=self.cfg.memory_limit, processes=True, host="127.0.0.1",
                            scheduler_port=0, dashboard_address=None, silence_logs=logging.WARNING,
                            # no dashboard; its plain HTTP endpoint on a free port instead of the shared 8787
                            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                        )
                    self._client = Client(self._cluster, set_as_default=False)
                log.info("dask client ready: %s", self._client)
            return self._client

    def compute(self, obj: Any, *, cancelled: threading.Event, on_progress: Callable[[float], None],
                on_submit: Callable[[list], None] | None = None) -> Any:
        """Run a lazy dask collection (xarray object, list of delayed) on the cluster; return it in memory.

        Progress is the fraction of finished tasks reported by the scheduler, falling
        back to the fraction of finished output chunks. A set `cancelled` event releases
        the futures (the scheduler then cancels their pending tasks) and raises Cancelled.
        """
        from distributed import futures_of

        from ..dask_local import count

        client = self.client()
        count("distributed", _graph_size(obj))
        persisted = client.persist(obj)
        futures = futures_of(persisted)
        if on_submit:
            on_submit(futures)
        watch = _TaskWatch(client, futures)
        pause = 0.01
        try:
            while not all(f.done() for f in futures):
                if cancelled.wait(pause):
                    raise Cancelled()
                pause = min(pause * 2, POLL_SECONDS)
                bad = [f for f in futures if f.status == "error"]
                if bad:
                    bad[0].result()  # raises the task's exception
                on_progress(watch.fraction())
            if cancelled.is_set():
                raise Cancelled()
            for f in futures:
                if f.status != "finished":
                    f.result()  # raises (error or cancelled)
            import dask

            (result,) = dask.compute(persisted, scheduler=client)
            return result
        finally:
            watch.close()
            self.cancel(futures)
            del persisted

    @staticmethod
    def cancel(futures: list) -> None:
        """Release a job's futures: the scheduler drops (cancels) tasks nobody else needs.

        Not `client.cancel`, which forgets keys for the whole client: two jobs with the
        same inputs share task keys, and cancelling one would cancel the other.
        """
        for f in futures:
            try:
                f.release()
            except Exception:  # noqa: BLE001 - the client may be closing; the job ends anyway
                log.debug("release failed", exc_info=True)

    def close(self) -> None:
        with self._lock:
            client, cluster = self._client, self._cluster
            self._client = self._cluster = None
        for thing in (client, cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001 - shutting down: nothing left to do about it
                    log.debug("closing dask failed", exc_info=True)


def _graph_size(obj) -> int:
    """Tasks in the graph of a dask collection (or of a list of them); 0 when it has none."""
    import dask

    try:
        collections = obj if isinstance(obj, (list, tuple)) else [obj]
        return sum(len(c.__dask_graph__()) for c in collections if dask.is_dask_collection(c))
    except Exception:  # noqa: BLE001 - a metric must never fail a job
        return 0


def _roomy(memory_limit: str) -> bool:
    from dask.utils import parse_bytes

    try:
        return parse_bytes(memory_limit) >= FAST_MALLOC_MIN_LIMIT
    except (ValueError, TypeError):
        return True  # "auto" and the like: a share of the machine's memory


class _TaskWatch:
    """Task-level progress from the scheduler's own Progress plugin, if the scheduler can run it."""

    def __init__(self, client, futures):
        self.client, self.futures = client, futures
        self.name = f"cubeserver-progress-{id(self)}"
        self.ok = True
        try:
            client.run_on_scheduler(_start_progress, keys=[f.key for f in futures], name=self.name)
        except Exception:  # noqa: BLE001 - a scheduler without cubeserver installed: count futures instead
            log.debug("task progress unavailable", exc_info=True)
            self.ok = False

    def fraction(self) -> float:
        done = sum(f.status == "finished" for f in self.futures) / max(len(self.futures), 1)
        if self.ok:
            try:
                counts = self.client.run_on_scheduler(_poll_progress, name=self.name)
                if counts:
                    done = max(done, counts[0] / max(counts[1], 1))
            except Exception:  # noqa: BLE001 - progress is best effort
                self.ok = False
        return done

    def close(self):
        if self.ok:
            try:
                self.client.run_on_scheduler(_stop_progress, name=self.name)
            except Exception:  # noqa: BLE001 - plugin may have removed itself
                pass


async def _start_progress(keys, name, dask_scheduler=None):
    from distributed.diagnostics.progress import Progress

    import asyncio

    p = Progress(keys, dask_scheduler, complete=True, name=name)
    await asyncio.wait_for(p.setup(), 10)
    dask_scheduler.extensions.setdefault("cubeserver_progress", {})[name] = p


def _poll_progress(name, dask_scheduler=None):
    p = dask_scheduler.extensions.get("cubeserver_progress", {}).get(name)
    if p is None or p.keys is None:
        return None
    total = len(p.all_keys)
    return (total - len(p.keys), total)


def _stop_progress(name, dask_scheduler=None):
    p = dask_scheduler.extensions.get("cubeserver_progress", {}).pop(name, None)
    if p is not None and p.name in dask_scheduler.plugins:
        dask_scheduler.remove_plugin(name=p.name)
