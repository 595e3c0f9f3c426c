"""The SQL both job stores share: one `jobs` table (JSON as text, times as RFC 3339 text) and `servers` heartbeats.

Subclasses give a session (a connection whose `execute(sql, args)` returns a cursor), the
placeholder style and the few expressions that differ between SQL dialects.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
import orjson

from .base import ACTIVE, COLUMNS, JSON_FIELDS, Job, JobStore, now

SELECT = f"SELECT {', '.join(COLUMNS)} FROM jobs"
INDEXES = ("CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created)",
           "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created)",
           "CREATE INDEX IF NOT EXISTS jobs_process ON jobs (process_id, created)",
           "CREATE INDEX IF NOT EXISTS jobs_collection ON jobs (collection, created)")


def column_types() -> str:
    return ", ".join("progress INTEGER" if c == "progress" else f"{c} TEXT" for c in COLUMNS if c != "id")


def encode(name: str, value):
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode() if name in JSON_FIELDS else value


def decode(row) -> Job:
    data = dict(zip(COLUMNS, row))
    for name in JSON_FIELDS:
        data[name] = orjson.loads(data[name]) if data[name] is not None else None
    data["progress"] = int(data["progress"] or 0)
    return Job(**data)


class SQLJobStore(JobStore):
    """Jobs and heartbeats in SQL; `?` placeholders in the text below are rewritten by `_sql`."""

    placeholder = "?"

    def _session(self) -> AbstractContextManager:
        """A connection (or a locked shared one) with `execute(sql, args) -> cursor`."""
        raise NotImplementedError

    def _duration(self) -> str:
        """Seconds from `started` to `finished` (or to the one `?` argument, now) as an SQL expression."""
        raise NotImplementedError

    def _sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    def _marks(self, n: int) -> str:
        return ", ".join("?" * n)

    def create(self, job: Job) -> None:
        job.updated = job.updated or job.created
        values = [encode(k, getattr(job, k)) for k in COLUMNS]  # not asdict: it deep-copies the inputs
        sql = self._sql(f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({self._marks(len(COLUMNS))})")
        with self._session() as db:
            db.execute(sql, values)

    def get(self, job_id: str) -> Job | None:
        with self._session() as db:
            row = db.execute(self._sql(f"{SELECT} WHERE id = ?"), (job_id,)).fetchone()
        return decode(row) if row else None

    def status(self, job_id: str) -> str | None:
        with self._session() as db:
            row = db.execute(self._sql("SELECT status FROM jobs WHERE id = ?"), (job_id,)).fetchone()
        return row[0] if row else None

    def update(self, job_id: str, *, only_if: tuple[str, ...] | None = None, **changes) -> bool:
        unknown = set(changes) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown job fields {sorted(unknown)}")
        changes.setdefault("updated", now())
        sets = ", ".join(f"{k} = ?" for k in changes)
        args = [encode(k, v) for k, v in changes.items()] + [job_id]
        where = "id = ?"
        if only_if:
            where += f" AND status IN ({self._marks(len(only_if))})"
            args += list(only_if)
        with self._session() as db:
            return db.execute(self._sql(f"UPDATE jobs SET {sets} WHERE {where}"), args).rowcount > 0

    def list(self, *, status=None, process_ids=None, created=None, min_duration=None, max_duration=None,
             limit=10, offset=0, published=None, submitter=None):
        where, args = [], []
        if submitter is not None:
            where.append("submitter = ?")
            args.append(submitter)
        for col, values in (("status", status), ("process_id", process_ids)):
            if values:
                where.append(f"{col} IN ({self._marks(len(values))})")
                args += list(values)
        if created and created[0]:
            where.append("created >= ?")
            args.append(created[0])
        if created and created[1]:
            where.append("created < ?")
            args.append(created[1])
        for op, bound in ((">=", min_duration), ("<=", max_duration)):
            if bound is not None:
                where.append(f"started IS NOT NULL AND {self._duration()} {op} ?")
                args += [now(), bound]
        if published is not None:
            where.append("collection IS NOT NULL" if published else "collection IS NULL")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._session() as db:
            total = db.execute(self._sql(f"SELECT COUNT(*) FROM jobs{clause}"), args).fetchone()[0]
            rows = db.execute(self._sql(f"{SELECT}{clause} ORDER BY created DESC, id LIMIT ? OFFSET ?"),
                              [*args, limit, offset]).fetchall() if total > offset else []
        return [decode(r) for r in rows], int(total)

    def active_counts(self, submitter: str) -> tuple[int, int]:
        marks = self._marks(len(ACTIVE))
        query = (f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN submitter = ? THEN 1 ELSE 0 END), 0) FROM jobs "
                 f"WHERE status IN ({marks})")
        with self._session() as db:
            total, mine = db.execute(self._sql(query), [submitter, *ACTIVE]).fetchone()
        return int(mine), int(total)

    def delete(self, job_id: str) -> bool:
        with self._session() as db:
            return db.execute(self._sql("DELETE FROM jobs WHERE id = ?"), (job_id,)).rowcount > 0

    def forget(self, owner: str) -> None:
        with self._session() as db:
            db.execute(self._sql("DELETE FROM servers WHERE owner = ?"), (owner,))
