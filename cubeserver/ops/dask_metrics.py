"""Dask series for `/metrics`: computations and tasks run, jobs running here, and the cluster's workers.

- `cubeserver_dask_computations_total{scheduler}` and `cubeserver_dask_tasks_total{scheduler}`:
  graphs computed and tasks run by this process: `scheduler="local"` counts the threaded and
  synchronous schedulers that answer data requests (`threads`/`sync` here, also the process default;
  small reads of cached chunks done without a scheduler, `sources.direct_read`, count as one each),
  `scheduler="distributed"` the graphs jobs send to the cluster (counted by the job runner); tasks =
  graph size in both.
- `cubeserver_jobs_running_here`: jobs this server process is running now (the store-wide counts
  by status are `cubeserver_jobs{status}`).
- `cubeserver_dask_workers`, `cubeserver_dask_worker_threads`, `cubeserver_dask_tasks_executing`:
  the distributed cluster as its scheduler reports it, once the job runner has a client (a scrape
  never starts one); absent otherwise.
Counts are per process, like the request series.
"""

from __future__ import annotations

import logging

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .. import dask_local

log = logging.getLogger("cubeserver")


def install_local_counter() -> None:
    """Count every local computation of this process (dask_local.install: the counted scheduler as default)."""
    dask_local.install()


class DaskCollector:
    """prometheus-client custom collector over the process counts and the job runner's cluster."""

    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self):
        return []

    def collect(self):
        counts = dask_local.counts()
        for kind, text in (("computations", "dask graphs computed by this process"),
                           ("tasks", "dask tasks run (local) or sent to the cluster (distributed) by this process")):
            family = CounterMetricFamily(f"cubeserver_dask_{kind}", text, labels=["scheduler"])
            for scheduler in ("local", "distributed"):
                family.add_metric([scheduler], counts.get((kind, scheduler), 0))
            yield family
        jobs = self.ctx.services.get("jobs")
        if jobs is None:
            return
        yield GaugeMetricFamily("cubeserver_jobs_running_here", "jobs running in this server process",
                                value=len(getattr(jobs, "_running", {})))
        runner = getattr(jobs, "runner", None)
        if runner is None or not runner.started:
            return
        try:
            workers = runner.client().scheduler_info()["workers"]
        except Exception as e:  # noqa: BLE001 - a lost scheduler must not break the scrape
            log.warning("dask scheduler unreachable for /metrics (%s)", type(e).__name__)
            return
        yield GaugeMetricFamily("cubeserver_dask_workers", "workers in the dask cluster", value=len(workers))
        yield GaugeMetricFamily("cubeserver_dask_worker_threads", "threads of all dask workers",
                                value=sum(w.get("nthreads", 0) for w in workers.values()))
        yield GaugeMetricFamily("cubeserver_dask_tasks_executing", "tasks executing on the dask workers",
                                value=sum(w.get("metrics", {}).get("executing", 0) for w in workers.values()))
