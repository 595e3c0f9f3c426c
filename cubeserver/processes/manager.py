"""Jobs: create, run in a thread pool, track, dismiss, recover after a restart.

Every execution (sync or async) is a job in the store, so results of both are
downloadable and listed. The waiting for dask happens in job threads, never on the
event loop; a sync request awaits its job's concurrent future.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..axes import build_axes
from ..config import CollectionConfig
from ..registry import Collection
from . import results
from .base import Process, failure_body
from .errors import Cancelled, NoSuchJob
from .runner import DaskRunner
from .store import ACTIVE, Job, JobStore, SQLiteJobStore, now

log = logging.getLogger("cubeserver.processes")

JOB_THREADS = 4


def owner_id() -> str:
    """This server process, unambiguously: host, pid, the pid's start time (pids are reused), an app token."""
    import psutil

    return f"{socket.gethostname()}:{os.getpid()}:{int(psutil.Process().create_time())}:{uuid.uuid4().hex[:8]}"


def owner_alive(owner: str) -> bool:
    """Whether the server process that owns a job still runs (an app in it may share the store)."""
    import psutil

    try:
        host, pid, started = owner.split(":")[:3]
        if host != socket.gethostname():
            return False  # a local SQLite store is only shared by processes of this host
        return int(psutil.Process(int(pid)).create_time()) == int(started)
    except (ValueError, psutil.Error):
        return False


class JobContext:
    """What a running process sees: its folder, cancellation and the cluster."""

    def __init__(self, manager: JobManager, job_id: str, request: dict | None = None):
        self.manager, self.id = manager, job_id
        self.request = request or {}
        self.dir = manager.job_dir(job_id)
        self.cancelled = threading.Event()
        self.futures: list = []
        self._last = -1

    def compute(self, obj):
        """Run lazy dask work on the cluster; progress goes to the job record (5..95%)."""
        return self.manager.runner.compute(
            obj, cancelled=self.cancelled, on_progress=self.progress, on_submit=self._submitted)

    def _submitted(self, futures):
        self.futures = futures
        if self.cancelled.is_set():
            self.manager.runner.cancel(futures)

    def progress(self, fraction: float) -> None:
        pct = int(5 + 90 * min(max(fraction, 0.0), 1.0))
        if pct != self._last:
            self._last = pct
            if not self.manager.store.update(self.id, only_if=("running",), progress=pct):
                self.cancel()  # dismissed, possibly by another server process sharing the store

    def output_format(self, output_id: str) -> str | None:
        """The media type the execute request asked for this output (validated before the job started)."""
        return ((self.request.get("outputs") or {}).get(output_id) or {}).get("mediaType")

    def cancel(self) -> None:
        self.cancelled.set()
        self.manager.runner.cancel(self.futures)

    def check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled()


class JobManager:
    def __init__(self, ctx, processes: dict[str, Process], store: JobStore | None = None):
        self.ctx = ctx
        self.processes = processes
        self.state = Path(ctx.config.state_path)
        self._store = store
        self.runner = DaskRunner(ctx.config.dask)
        self.owner = owner_id()
        self._pool: ThreadPoolExecutor | None = None
        self._running: dict[str, JobContext] = {}
        self._lock = threading.Lock()
        self._started = False

    # ------------------------------------------------------------ lifecycle

    @property
    def store(self) -> JobStore:
        if self._store is None:
            self.state.mkdir(parents=True, exist_ok=True)
            self._store = SQLiteJobStore(self.state / "jobs.sqlite")
        return self._store

    def start(self) -> None:
        """Fail jobs orphaned by a dead server, re-publish stored gridded results."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._pool = ThreadPoolExecutor(JOB_THREADS, thread_name_prefix="cubeserver-job")
        orphans, _ = self.store.list(status=list(ACTIVE), limit=1_000_000)
        for job in orphans:
            if not owner_alive(job.owner):
                msg = f"the server stopped while this job was {job.status}; submit it again"
                self.store.update(job.id, only_if=ACTIVE, status="failed", message=msg, finished=now(),
                                  error={**failure_body(RuntimeError()), "detail": msg})
        done, _ = self.store.list(status=["successful"], limit=1_000_000)
        for job in done:
            try:
                self.publish(job.id, job.process_id, job.results)
            except Exception:  # noqa: BLE001 - a damaged result folder must not stop the server
                log.warning("could not re-publish results of job %s", job.id, exc_info=True)
        if self.ctx.config.dask.scheduler_address:
            threading.Thread(target=self._connect, daemon=True).start()

    def _connect(self):
        try:
            self.runner.client()
        except Exception:  # noqa: BLE001 - retried on the first job, which then reports the error
            log.warning("dask scheduler %s not reachable yet", self.ctx.config.dask.scheduler_address)

    def close(self) -> None:
        """Stop: cancel running work, and fail this server's unfinished jobs now rather than at the next start."""
        for jc in list(self._running.values()):
            jc.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self.runner.close()
        if self._store is not None and self._started:
            active, _ = self._store.list(status=list(ACTIVE), limit=1_000_000)
            for job in active:
                if job.owner == self.owner:
                    msg = f"the server shut down while this job was {job.status}; submit it again"
                    self._store.update(job.id, only_if=ACTIVE, status="failed", message=msg, finished=now(),
                                       error={**failure_body(RuntimeError()), "detail": msg})
        if self._store is not None:
            self._store.close()
            self._store = None
        self._started = False

    def job_dir(self, job_id: str) -> Path:
        return self.state / "jobs" / job_id

    # ------------------------------------------------------------ submit / run

    def submit(self, process: Process, params, inputs: dict, request: dict, mode: str) -> tuple[Job, Future]:
        self.start()
        job = Job(id=uuid.uuid4().hex, process_id=process.id, owner=self.owner, mode=mode, inputs=inputs,
                  request=request, message="accepted")
        self.store.create(job)
        return job, self._pool.submit(self._run, job.id, process, params, request)

    def _run(self, job_id: str, process: Process, params, request: dict) -> None:
        if not self.store.update(job_id, only_if=("accepted",), status="running", started=now(), progress=1,
                                 message="running"):
            return  # dismissed while queued
        jc = JobContext(self, job_id, request)
        self._running[job_id] = jc
        try:
            outputs = process.execute(params, jc)
            jc.check()
            jc.progress(1.0)
            manifest = results.save(outputs, jc.dir)
            jc.check()
            self.publish(job_id, process.id, manifest)
            if self.store.update(job_id, only_if=("running",), status="successful", progress=100, finished=now(),
                                 results=manifest, message="finished"):
                return
            self.cleanup(job_id)  # dismissed between the last check and the update
        except Cancelled:
            self.cleanup(job_id)
        except BaseException as e:  # noqa: BLE001 - any failure becomes the job's error
            if not isinstance(e, Exception) or not _is_client_error(e):
                log.error("job %s (%s) failed", job_id, process.id, exc_info=True)
            body = failure_body(e)
            if body["status"] >= 500 and str(e):
                body["detail"] += f": {self._scrub(str(e))}"
            self.store.update(job_id, only_if=("running",), status="failed", finished=now(), error=body,
                              message=body["detail"][:500])
            self.cleanup(job_id)
        finally:
            self._running.pop(job_id, None)

    def _scrub(self, text: str) -> str:
        """No server paths in client-visible messages."""
        for p in (str(self.state), str(self.ctx.config.root.resolve()), str(self.ctx.config.root)):
            if p and p != ".":
                text = text.replace(p, ".")
        return text[:300]

    # ------------------------------------------------------------ results as collections

    @staticmethod
    def collection_id(job_id: str) -> str:
        return f"job-{job_id}"

    def publish(self, job_id: str, process_id: str, manifest: dict) -> None:
        """Serve the (first) gridded output as the temporary collection `job-{id}`."""
        for name, entry in (manifest or {}).items():
            if entry.get("kind") != "coverage":
                continue
            job_dir = self.job_dir(job_id)
            ds = results.open_grid(job_dir, entry)
            cid = self.collection_id(job_id)
            cc = CollectionConfig(path=str(job_dir / entry["zarr"]), format="zarr",
                                  title=f"Result '{name}' of job {job_id} ({process_id})",
                                  description=f"Temporary collection: removed when job {job_id} is dismissed.")
            self.ctx.registry.add(Collection(cid, cc, ds=ds, axes=build_axes(ds), temporary=True))
            return

    def cleanup(self, job_id: str) -> None:
        """Remove a job's temporary collection and files."""
        cid = self.collection_id(job_id)
        if cid in self.ctx.registry:
            self.ctx.registry.remove(cid)
        results.remove_dir(self.job_dir(job_id))

    # ------------------------------------------------------------ queries

    def get(self, job_id: str) -> Job:
        job = self.store.get(job_id) if _plausible(job_id) else None
        if job is None:
            raise NoSuchJob(f"no job {job_id!r}", parameter="jobId")
        return job

    def dismiss(self, job_id: str) -> Job:
        """Cancel a queued or running job, or drop a finished one's results; the record stays, dismissed."""
        job = self.get(job_id)
        if job.status != "dismissed":
            self.store.update(job_id, status="dismissed", message="dismissed by the client", finished=job.finished or now())
            jc = self._running.get(job_id)
            if jc is not None:
                jc.cancel()
            self.cleanup(job_id)
        return self.get(job_id)


def _plausible(job_id: str) -> bool:
    return 0 < len(job_id) <= 64 and all(c.isalnum() or c in "-_" for c in job_id)


def _is_client_error(e: Exception) -> bool:
    from ..errors import APIError

    return isinstance(e, APIError) and e.status < 500
