"""Durable job records behind a small interface: SQLite now, PostgreSQL later.

Jobs must outlive the server process (clients poll /jobs/{id} across restarts), and
several uvicorn workers may share one store, so the record lives in a database and
not in memory. The interface is the five operations the job manager needs.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

import orjson

ACTIVE = ("accepted", "running")
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
    owner: str = ""  # host:pid:start-time of the server process running it
    mode: str = "async"
    inputs: dict = field(default_factory=dict)
    request: dict = field(default_factory=dict)  # outputs + response of the execute request
    results: dict = field(default_factory=dict)  # output id -> manifest entry (see results.py)
    error: dict | None = None


_JSON = ("inputs", "request", "results", "error")
_COLUMNS = [f.name for f in fields(Job)]


class JobStore(ABC):
    """What the job manager needs from a job database."""

    @abstractmethod
    def create(self, job: Job) -> None: ...

    @abstractmethod
    def get(self, job_id: str) -> Job | None: ...

    @abstractmethod
    def update(self, job_id: str, *, only_if: tuple[str, ...] | None = None, **changes) -> bool:
        """Change fields (and `updated`); with `only_if`, only while the status is one of those."""

    @abstractmethod
    def list(self, *, status: list[str] | None = None, process_ids: list[str] | None = None,
             created: tuple[str | None, str | None] | None = None, min_duration: float | None = None,
             max_duration: float | None = None, limit: int = 10, offset: int = 0) -> tuple[list[Job], int]:
        """Newest first, with the number matched before paging.

        `created` is a [start, end) range of RFC 3339 strings; durations are seconds from
        start to finish (or to now while running).
        """

    @abstractmethod
    def delete(self, job_id: str) -> bool: ...

    def close(self) -> None:  # noqa: B027 - optional for stores without connections
        pass


class SQLiteJobStore(JobStore):
    """One SQLite file in WAL mode; one connection guarded by a lock (writes are tiny)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=30000")
            cols = ", ".join(f"{c} TEXT" if c != "progress" else "progress INTEGER" for c in _COLUMNS if c != "id")
            self._db.execute(f"CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, {cols})")
            self._db.execute("CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created)")
            self._db.execute("CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created)")
            self._db.execute("CREATE INDEX IF NOT EXISTS jobs_process ON jobs (process_id, created)")

    @staticmethod
    def _encode(name, value):
        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode() if name in _JSON else value

    def _row(self, row) -> Job:
        data = dict(zip(_COLUMNS, row))
        for name in _JSON:
            data[name] = orjson.loads(data[name]) if data[name] is not None else None
        data["progress"] = int(data["progress"] or 0)
        return Job(**data)

    def create(self, job: Job) -> None:
        job.updated = job.updated or job.created
        values = [self._encode(k, v) for k, v in asdict(job).items()]
        with self._lock:
            self._db.execute(f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})", values)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._row(row) if row else None

    def update(self, job_id: str, *, only_if: tuple[str, ...] | None = None, **changes) -> bool:
        unknown = set(changes) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown job fields {sorted(unknown)}")
        changes.setdefault("updated", now())
        sets = ", ".join(f"{k} = ?" for k in changes)
        args = [self._encode(k, v) for k, v in changes.items()] + [job_id]
        where = "id = ?"
        if only_if:
            where += f" AND status IN ({', '.join('?' * len(only_if))})"
            args += list(only_if)
        with self._lock:
            cur = self._db.execute(f"UPDATE jobs SET {sets} WHERE {where}", args)
        return cur.rowcount > 0

    def list(self, *, status=None, process_ids=None, created=None, min_duration=None, max_duration=None,
             limit=10, offset=0):
        where, args = [], []
        for col, values in (("status", status), ("process_id", process_ids)):
            if values:
                where.append(f"{col} IN ({', '.join('?' * len(values))})")
                args += list(values)
        if created and created[0]:
            where.append("created >= ?")
            args.append(created[0])
        if created and created[1]:
            where.append("created < ?")
            args.append(created[1])
        duration = "(julianday(COALESCE(finished, ?)) - julianday(started)) * 86400.0"
        for op, bound in ((">=", min_duration), ("<=", max_duration)):
            if bound is not None:
                where.append(f"started IS NOT NULL AND {duration} {op} ?")
                args += [now(), bound]
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM jobs{clause}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM jobs{clause} ORDER BY created DESC, id LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return [self._row(r) for r in rows], int(total)

    def delete(self, job_id: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount > 0

    def close(self) -> None:
        with self._lock:
            self._db.close()
