"""Jobs: create, run in a thread pool, track, dismiss, recover after a restart.

Every execution (sync or async) is a job in the store, so results of both are
downloadable and listed. The waiting for dask happens in job threads, never on the
event loop; a sync request awaits its job's concurrent future.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import datetime, timezone
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from . import policy, results
from ..errors import APIError
from .base import Process, failure_body
from .errors import Cancelled, NoSuchJob
from .owners import STALE_S, Heartbeat, local, owner_alive, owner_id
from .published import JobCollections, collection_id, open_result
from .runner import DaskRunner
from .storage import JobFiles, ResultStorage
from .store import ACTIVE, FINAL, Job, JobStore, now, open_store, redact

log = logging.getLogger("cubeserver.processes")

JOB_THREADS = 4
STATUS_POLL_S = 1.0  # a running job asks the store this often whether it was dismissed (maybe by another process)
FRESH_CACHE_S = 1.0  # how long one read of the heartbeats answers liveness questions
EXPIRY_EVERY_S = 60.0  # how often the sweep looks for jobs past their retention

__all__ = ["JobContext", "JobManager", "owner_alive", "owner_id"]


class JobContext:
    """What a running process sees: its folder, cancellation and the cluster."""

    def __init__(self, manager: JobManager, job_id: str, request: dict | None = None):
        self.manager, self.id = manager, job_id
        self.request = request or {}
        self.dir = manager.job_dir(job_id)
        self.cancelled = threading.Event()
        self.started = time.monotonic()
        self.futures: list = []
        self._last = -1
        self._checked = time.monotonic()

    def compute(self, obj):
        """Run lazy dask work on the cluster; progress goes to the job record (5..95%)."""
        return self.manager.runner.compute(
            obj, cancelled=self.cancelled, on_progress=self.progress, on_submit=self._submitted)

    def _submitted(self, futures):
        self.futures = futures
        if self.cancelled.is_set():
            self.manager.runner.cancel(futures)

    def progress(self, fraction: float) -> None:
        """Record progress; notice (within STATUS_POLL_S) a dismissal by any server process sharing the store."""
        pct = int(5 + 90 * min(max(fraction, 0.0), 1.0))
        t = time.monotonic()
        if pct != self._last:
            self._last, self._checked = pct, t
            if not self.manager.store.update(self.id, only_if=("running",), progress=pct):
                self.cancel()  # dismissed (or failed as orphaned) meanwhile
        elif t - self._checked >= STATUS_POLL_S:
            self._checked = t
            if self.manager.store.status(self.id) != "running":
                self.cancel()

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
        self._last_expiry = float("-inf")
        self._running: dict[str, JobContext] = {}
        self._lock = threading.Lock()
        self._started = False
        self._heartbeat: Heartbeat | None = None
        self._fresh: tuple[float, set[str]] = (-1e9, set())
        auth = ctx.config.auth
        self.admin_role = auth.admin_role if auth is not None else None  # None: open server, jobs are everyone's
        jobs_cfg = ctx.config.jobs
        self.storage = ResultStorage(jobs_cfg.results_setting, jobs_cfg.results_options, self.state, ctx.config.resolve)
        self.collections = JobCollections(lambda: self.store, self.files, lambda: self._started, self.admin_role)

    # ------------------------------------------------------------ lifecycle

    @property
    def store(self) -> JobStore:
        """The job store `jobs.store` names (SQLite in the state dir by default), opened on first use."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self.state.mkdir(parents=True, exist_ok=True)
                    self._store = open_store(self.ctx.config.jobs.store_setting, self.state)
        return self._store

    @property
    def started(self) -> bool:
        return self._started

    def start(self) -> None:
        """Beat, fail jobs orphaned by dead servers, and keep doing both every few seconds."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._pool = ThreadPoolExecutor(JOB_THREADS, thread_name_prefix="cubeserver-job")
        setting = self.ctx.config.jobs.store_setting
        log.info("job store: %s; job files: %s", redact(setting) if setting else "SQLite in the state dir",
                 self.storage.describe())
        self.store.beat(self.owner)
        self.sweep()
        self._heartbeat = Heartbeat(lambda: self.store.beat(self.owner), self.sweep)
        self._heartbeat.start()
        if self.ctx.config.dask.scheduler_address:
            threading.Thread(target=self._connect, daemon=True).start()

    def _connect(self):
        try:
            self.runner.client()
        except Exception:  # noqa: BLE001 - retried on the first job, which then reports the error
            log.warning("dask scheduler %s not reachable yet", self.ctx.config.dask.scheduler_address)

    def alive(self, owner: str) -> bool:
        """Whether a job owner still runs: this process, a live pid on this machine, or a fresh heartbeat."""
        if owner == self.owner:
            return True
        if local(owner):
            return owner_alive(owner)
        at, fresh = self._fresh
        if time.monotonic() - at > FRESH_CACHE_S:
            fresh = self.store.fresh_owners(STALE_S)
            self._fresh = (time.monotonic(), fresh)
        return owner_alive(owner, fresh)

    def fail_orphan(self, job: Job) -> bool:
        """Mark an active job of a dead server process failed; True if this call did it."""
        msg = f"the server stopped while this job was {job.status}; submit it again"
        done = self.store.update(job.id, only_if=ACTIVE, status="failed", message=msg, finished=now(),
                                 error={**failure_body(RuntimeError()), "detail": msg})
        if done:
            log.warning("job %s failed: its server process %s stopped", job.id, job.owner.split(":")[0])
        return done

    def sweep(self) -> None:
        """Fail the active jobs whose server process is gone, stop this process's jobs that ran past
        `limits.job_time_limit_s`, and remove jobs past `jobs.retention` (at start and with every heartbeat)."""
        self._stop_overdue()
        self._expire()
        active, _ = self.store.list(status=list(ACTIVE), limit=1_000_000)
        verdict: dict[str, bool] = {}
        for job in active:
            if job.owner not in verdict:
                verdict[job.owner] = self.alive(job.owner)
            if not verdict[job.owner]:
                self.fail_orphan(job)

    def _stop_overdue(self) -> None:
        limit = self.ctx.config.limits.job_time_limit_s
        for job_id, jc in list(self._running.items()):
            if time.monotonic() - jc.started > limit and self.store.update(
                    job_id, only_if=("running",), status="failed", finished=now(),
                    message=f"stopped: ran longer than this server's limit of {limit:g} s (limits.job_time_limit_s)",
                    # 413 like any request over this server's limits (max_cells): ask for less work
                    error={"type": "http://www.opengis.net/def/exceptions/ogcapi-common-1/1.0/PayloadTooLarge",
                           "title": "Job time limit exceeded", "status": 413, "code": "PayloadTooLarge",
                           "detail": f"the job ran longer than {limit:g} s (limits.job_time_limit_s) and was stopped; "
                                     "ask for a smaller region, period or fewer variables"}):
                log.warning("job %s stopped: over the time limit of %g s", job_id, limit)
                jc.cancel()  # the job's thread sees it, releases its dask tasks and removes its files

    def _expire(self) -> None:
        """Delete finished jobs (record, files, collection) created more than `jobs.retention` ago."""
        retention = self.ctx.config.jobs.retention_seconds()
        if retention is None or time.monotonic() - self._last_expiry < EXPIRY_EVERY_S:
            return
        self._last_expiry = time.monotonic()
        cutoff = datetime.fromtimestamp(time.time() - retention, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        old, _ = self.store.list(status=list(FINAL), created=(None, cutoff), limit=10_000)
        for job in old:
            self.cleanup(job.id)
            self.store.delete(job.id)
        if old:
            log.info("removed %d job(s) older than the retention of %g s", len(old), retention)

    def close(self) -> None:
        """Stop: cancel running work, and fail this server's unfinished jobs now rather than at the next start."""
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
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
            try:
                self._store.forget(self.owner)
            except Exception:  # noqa: BLE001 - stopping: the beat goes stale anyway
                log.debug("could not drop the heartbeat", exc_info=True)
        if self._store is not None:
            self._store.close()
            self._store = None
        self._started = False

    def job_dir(self, job_id: str) -> Path:
        """The local folder a job writes its files into (their final place unless `jobs.results` is a URL)."""
        return self.storage.work_dir(job_id)

    def files(self, job_id: str) -> JobFiles:
        """A finished job's files where every server reads them (local folder or object store)."""
        return self.storage.files(job_id)

    # ------------------------------------------------------------ submit / run

    def submit(self, process: Process, params, inputs: dict, request: dict, mode: str) -> tuple[Job, Future]:
        self.start()
        limits = self.ctx.config.limits
        job = Job(id=uuid.uuid4().hex, process_id=process.id, owner=self.owner, mode=mode, inputs=inputs,
                  request=request, message="accepted", submitter=policy.submitter())
        policy.admit(self.store, job, limits.max_jobs_per_identity, limits.max_jobs)
        return job, self._pool.submit(self._run, job.id, process, params, request, inputs)

    def _run(self, job_id: str, process: Process, params, request: dict, inputs: dict | None = None) -> None:
        if not self.store.update(job_id, only_if=("accepted",), status="running", started=now(), progress=1,
                                 message="running"):
            return  # dismissed while queued
        jc = JobContext(self, job_id, request)
        self._running[job_id] = jc
        log.info("job %s (%s) started", job_id, process.id)
        try:
            outputs = process.execute(params, jc)
            jc.check()
            if process.uses_dask:
                jc.progress(1.0)  # computed; saving a large result may take a while yet
            manifest = results.save(outputs, jc.dir)
            jc.check()
            self.storage.commit(job_id)  # remote results: uploaded before the job can be seen successful
            jc.check()
            cid = self.publish(job_id, process.id, manifest)
            if self.store.update(job_id, only_if=("running",), status="successful", progress=100, finished=now(),
                                 results=manifest, message="finished", collection=cid):
                log.info("job %s (%s) successful in %.1f s", job_id, process.id, time.monotonic() - jc.started)
                return
            self.cleanup(job_id)  # dismissed between the last check and the update
        except Cancelled:
            log.info("job %s (%s) cancelled", job_id, process.id)
            self.cleanup(job_id)
        except BaseException as e:  # noqa: BLE001 - any failure becomes the job's error
            if not isinstance(e, Exception) or not _is_client_error(e):
                log.error("job %s (%s) failed", job_id, process.id, exc_info=True)
            else:
                log.info("job %s (%s) failed: %s", job_id, process.id, str(e)[:200])
            body = self._failure(e, inputs)
            if body["status"] == 500 and str(e):
                body["detail"] += f": {self._scrub(str(e))}"
            self.store.update(job_id, only_if=("running",), status="failed", finished=now(), error=body,
                              message=body["detail"][:500])
            self.cleanup(job_id)
        finally:
            self._running.pop(job_id, None)

    def _failure(self, exc: BaseException, inputs: dict | None) -> dict:
        """The job's error: a remote store's failure is 503 StoreUnavailable naming the collection (a dask
        worker wraps it in its own errors), never a 500 with the library's text."""
        from ..sources.unavailable import unavailable

        cid = (inputs or {}).get("collection")
        store = None if isinstance(exc, APIError) else unavailable(exc, self.ctx.config, cid if isinstance(cid, str) else None)
        return store.body() if store is not None else failure_body(exc)

    def _scrub(self, text: str) -> str:
        """No server paths in client-visible messages."""
        for p in (str(self.state), str(self.ctx.config.root.resolve()), str(self.ctx.config.root),
                  self.storage.describe()):
            if p and p != ".":
                text = text.replace(p, ".")
        return text[:300]

    # ------------------------------------------------------------ results as collections

    @staticmethod
    def collection_id(job_id: str) -> str:
        return collection_id(job_id)

    def publish(self, job_id: str, process_id: str, manifest: dict) -> str | None:
        """Check that the (first) gridded output opens as a collection; its id `job-{id}`, or None without one.

        The collection is served by every process sharing the store once the job is
        recorded successful with this id (see published.py).
        """
        c = open_result(job_id, process_id, manifest, self.files(job_id))
        if c is None:
            return None
        self.collections.add(c)
        return c.id

    def cleanup(self, job_id: str) -> None:
        """Remove a job's temporary collection and files (from the state dir or the object store)."""
        self.collections.drop(collection_id(job_id))
        self.storage.remove(job_id)

    # ------------------------------------------------------------ queries

    def get(self, job_id: str) -> Job:
        """The job as the store has it now; an active job of a dead server process is failed first."""
        job = self.store.get(job_id) if _plausible(job_id) else None
        if job is None or not policy.may_access(job, self.admin_role):  # another identity's job: as if absent
            raise NoSuchJob(f"no job {job_id!r}", parameter="jobId")
        if job.status in ACTIVE and not self.alive(job.owner):
            self.fail_orphan(job)
            job = self.store.get(job_id) or job
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
