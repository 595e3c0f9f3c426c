"""`job-{id}` collections: a successful job's gridded output served through EDR, Coverages and Zarr.

They are not held by one server process: the registry asks this source on every request,
and the source asks the job store whether the job is (still) successful, so every
process sharing the store (uvicorn `--workers`, replicas on other machines) serves the
same job collections, and none serves one after its job was dismissed. The result's
Zarr lives where `jobs.results` says (the state dir, a shared folder or an object store); opened datasets are cached per process (metadata
only, the data stays lazy).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Callable

from ..axes import build_axes
from ..config import CollectionConfig
from ..registry import Collection
from . import policy, results
from .storage import JobFiles
from .store import Job, JobStore

log = logging.getLogger("cubeserver.processes")

PREFIX = "job-"
CACHE_SIZE = 256  # opened job collections kept per process


def collection_id(job_id: str) -> str:
    return f"{PREFIX}{job_id}"


def open_result(job_id: str, process_id: str, manifest: dict, files: JobFiles) -> Collection | None:
    """The job's first gridded output as a Collection, or None when it has none (raises if it cannot be opened)."""
    for name, entry in (manifest or {}).items():
        if entry.get("kind") != "coverage":
            continue
        ds = results.open_grid(files, entry)
        cc = CollectionConfig(path=files.location(entry["zarr"]), format="zarr",
                              title=f"Result '{name}' of job {job_id} ({process_id})",
                              description=f"Temporary collection: removed when job {job_id} is dismissed.")
        return Collection(collection_id(job_id), cc, ds=ds, axes=build_axes(ds), temporary=True)
    return None


class JobCollections:
    """A registry source (`lookup`, `collections`) backed by the job store."""

    def __init__(self, store: Callable[[], JobStore], files: Callable[[str], JobFiles], started: Callable[[], bool],
                 admin_role: str | None = None):
        self._store, self._files, self._started = store, files, started
        self._admin_role = admin_role  # None: an open server, every job collection is everyone's
        self._cache: OrderedDict[str, Collection] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, cid: str) -> Collection | None:
        """The collection `cid` if it is a successful job's published result, asked of the store now."""
        if not cid.startswith(PREFIX) or not _plausible(cid[len(PREFIX):]):
            return None
        job = self._store().get(cid[len(PREFIX):])
        if job is None or job.status != "successful" or job.collection != cid:
            self.drop(cid)
            return None
        if not policy.may_access(job, self._admin_role):
            return None  # another identity's result: as if it did not exist
        try:
            return self._open(job)
        except Exception:  # noqa: BLE001 - files gone (dismissed meanwhile) or damaged: not served
            log.warning("cannot open the result of job %s", job.id, exc_info=log.isEnabledFor(logging.DEBUG))
            return None

    def collections(self) -> list[Collection]:
        """Every published job collection, oldest first (empty before the job manager started)."""
        if not self._started():
            return []
        try:
            mine = None if policy.sees_all(self._admin_role) else policy.submitter()
            jobs, _ = self._store().list(status=["successful"], published=True, limit=1_000_000, submitter=mine)
        except Exception as e:  # noqa: BLE001 - store down: the configured collections are still listed (/ready says why)
            log.warning("job store unreachable (%s): job collections left out of the listing", type(e).__name__)
            return []
        out = []
        for job in reversed(jobs):
            try:
                out.append(self._open(job))
            except Exception:  # noqa: BLE001 - a damaged result folder must not break the listing
                log.warning("cannot open the result of job %s", job.id, exc_info=log.isEnabledFor(logging.DEBUG))
        return out

    def add(self, collection: Collection) -> None:
        """Cache a collection this process just opened (the job's own check that its result is servable)."""
        with self._lock:
            self._cache[collection.id] = collection
            self._trim()

    def drop(self, cid: str) -> None:
        with self._lock:
            self._cache.pop(cid, None)

    def _open(self, job: Job) -> Collection:
        with self._lock:
            c = self._cache.get(job.collection)
            if c is not None:
                self._cache.move_to_end(job.collection)
                return c
        c = open_result(job.id, job.process_id, job.results, self._files(job.id))
        if c is None:
            raise FileNotFoundError(f"job {job.id} has no gridded output")
        self.add(c)
        return c

    def _trim(self) -> None:
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)  # not closed: a request may still read it; Zarr holds no handle


def _plausible(job_id: str) -> bool:
    return 0 < len(job_id) <= 64 and all(c.isalnum() or c in "-_" for c in job_id)
