"""The job record and what the job manager needs from a job database.

Jobs must outlive the server process (clients poll /jobs/{id} across restarts), and
several server processes, on one machine or several, share one store: the record lives
in a database, never in one process's memory. Besides the jobs, a store keeps one
heartbeat per running server process, so a process can tell whether the owner of an
active job still runs when that owner is on another machine.
"""

from __future__ import annotations

import threading

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

ACTIVE = ("accepted", "running")
_ADMIT = threading.Lock()
FINAL = ("successful", "failed", "dismissed")
STATUSES = ACTIVE + FINAL


def now() -> str:
    """UTC RFC 3339 with microseconds: sorts as text, so the store can order by it."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Job:
    id: str
    process_id: str
    status: str = "accepted"
    message: str = ""
    progress: int = 0
    created: str = field(default_factory=now)
    started: str | None = None
    finished: str | None = None
    updated: str | None = None
    owner: str = ""  # host:pid:start-time:token of the server process running it
    mode: str = "async"
    inputs: dict = field(default_factory=dict)
    request: dict = field(default_factory=dict)  # outputs + response of the execute request
    results: dict = field(default_factory=dict)  # output id -> manifest entry (see results.py)
    error: dict | None = None
    collection: str | None = None  # `job-{id}` once a successful job's gridded output is served
    submitter: str = ""  # the identity that submitted it ('' on an open server): only it and admins see the job


JSON_FIELDS = ("inputs", "request", "results", "error")
COLUMNS = [f.name for f in fields(Job)]


class JobStore(ABC):
    """What the job manager needs from a job database (SQLite embedded, PostgreSQL shared)."""

    @abstractmethod
    def create(self, job: Job) -> None: ...

    @abstractmethod
    def get(self, job_id: str) -> Job | None: ...

    def status(self, job_id: str) -> str | None:
        """Only the status (cheap: polled by running jobs to notice a dismissal from another process)."""
        job = self.get(job_id)
        return job.status if job else None

    @abstractmethod
    def update(self, job_id: str, *, only_if: tuple[str, ...] | None = None, **changes) -> bool:
        """Change fields (and `updated`); with `only_if`, only while the status is one of those."""

    @abstractmethod
    def list(self, *, status: list[str] | None = None, process_ids: list[str] | None = None,
             created: tuple[str | None, str | None] | None = None, min_duration: float | None = None,
             max_duration: float | None = None, limit: int = 10, offset: int = 0,
             published: bool | None = None, submitter: str | None = None) -> tuple[list[Job], int]:
        """Newest first, with the number matched before paging.

        `created` is a [start, end) range of RFC 3339 strings; durations are seconds from
        start to finish (or to now while running); `published`: only jobs with (True) or
        without (False) a `job-{id}` collection; `submitter`: only that identity's jobs.
        """

    def active_counts(self, submitter: str) -> tuple[int, int]:
        """(jobs queued or running of `submitter`, of everyone): the capacity check of every submission.
        SQL stores answer it with one query."""
        return (self.list(status=list(ACTIVE), submitter=submitter, limit=1)[1],
                self.list(status=list(ACTIVE), limit=1)[1])

    def create_within(self, job: Job, per_identity: int, total: int) -> tuple[int, int] | None:
        """Create `job` unless its submitter already has `per_identity` jobs queued or running, or everyone
        `total`: then nothing is created and (the submitter's, everyone's) counts are returned. Here: count,
        then insert; PostgreSQL does both in one statement."""
        with _ADMIT:  # submissions run in worker threads: one count-then-insert at a time in this process
            mine, everyone = self.active_counts(job.submitter)
            if mine >= per_identity or everyone >= total:
                return mine, everyone
            self.create(job)
        return None

    @abstractmethod
    def delete(self, job_id: str) -> bool: ...

    @abstractmethod
    def beat(self, owner: str) -> None:
        """Record that server process `owner` is alive now (by the database's clock)."""

    @abstractmethod
    def fresh_owners(self, max_age_s: float) -> set[str]:
        """Owners whose last heartbeat is at most `max_age_s` seconds old (by the database's clock)."""

    @abstractmethod
    def forget(self, owner: str) -> None:
        """Drop the heartbeat of a server process that stops."""

    def close(self) -> None:  # noqa: B027 - optional for stores without connections
        pass


def redact(url: str) -> str:
    """A store URL fit for logs and messages: the password (and any query string) left out."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable store URL>"
    if not parts.netloc:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = (f"{parts.username}@" if parts.username else "") + host + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
