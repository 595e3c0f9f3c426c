"""The shared job store: PostgreSQL through psycopg 3, for several server processes on several machines.

Chosen by `jobs.store: postgresql://user@host:port/db` (or the CUBESERVER_JOBS_STORE
environment variable). The password is best left out of the URL: libpq also reads
PGPASSWORD and ~/.pgpass. Same tables and semantics as the SQLite store; timestamps
stay RFC 3339 text, so both stores order and filter alike. The tables are created on
first use (under an advisory lock, so servers starting together do not race).
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

from .base import ACTIVE, COLUMNS, Job, redact
from .sql import INDEXES, SQLJobStore, column_types, encode

log = logging.getLogger("cubeserver.processes")

POOL_MAX = 10  # connections per server process (request threads + job threads share them)
CONNECT_TIMEOUT_S = 10
SCHEMA_LOCK = 0x6375_6265  # pg_advisory_xact_lock key: "cube"


class JobStoreUnavailable(RuntimeError):
    """The job store cannot be reached or set up; the message names it without credentials."""


class PostgresJobStore(SQLJobStore):
    """Jobs in PostgreSQL; a psycopg_pool connection pool when installed, else one locked connection."""

    placeholder = "%s"

    def __init__(self, url: str, pool_max: int = POOL_MAX):
        try:
            import psycopg
        except ImportError:
            raise JobStoreUnavailable("jobs.store is a PostgreSQL URL but psycopg is not installed: "
                                      "pip install 'cubeserver[postgres]'") from None
        self.where = redact(url)
        self._pool = self._conn = None
        self._lock = threading.Lock()
        kwargs = {"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S, **_session_options(url)}
        try:
            with psycopg.connect(url, **kwargs) as conn:
                self._create_schema(conn)
            try:
                from psycopg_pool import ConnectionPool
            except ImportError:
                self._conn = psycopg.connect(url, **kwargs)
            else:
                self._pool = ConnectionPool(url, min_size=1, max_size=pool_max, open=False, name="cubeserver-jobs",
                                            kwargs=kwargs)
                self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 3)
        except psycopg.Error as e:
            self.close()
            raise JobStoreUnavailable(f"job store {self.where} not usable: {_first_line(e)}") from None
        log.info("job store: PostgreSQL %s (%s)", self.where, "connection pool" if self._pool else "one connection")

    @staticmethod
    def _create_schema(conn) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            conn.execute(f"CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, {column_types()})")
            for col in COLUMNS[1:]:  # Job fields added by later versions
                conn.execute(f"ALTER TABLE jobs ADD COLUMN IF NOT EXISTS {col} {'INTEGER' if col == 'progress' else 'TEXT'}")
            for sql in INDEXES:
                conn.execute(sql)
            conn.execute("CREATE TABLE IF NOT EXISTS servers (owner TEXT PRIMARY KEY, "
                         "beat TIMESTAMPTZ NOT NULL DEFAULT now())")

    @contextmanager
    def _session(self):
        if self._pool is not None:
            with self._pool.connection() as conn:
                yield conn
        else:
            with self._lock:
                if self._conn is None:
                    raise JobStoreUnavailable(f"job store {self.where} is closed")
                yield self._conn

    def create_within(self, job: Job, per_identity: int, total: int) -> tuple[int, int] | None:
        """One statement, the counts as conditions of the insert: a round trip less per submission to a database
        that is usually across a network. (SQLite keeps count-then-insert: its conditional insert would
        count under the write lock, which the server processes sharing the file then wait for.)"""
        job.updated = job.updated or job.created
        values = [encode(k, getattr(job, k)) for k in COLUMNS]
        active = f"SELECT COUNT(*) FROM jobs WHERE status IN ({self._marks(len(ACTIVE))})"
        sql = self._sql(f"INSERT INTO jobs ({', '.join(COLUMNS)}) SELECT {self._marks(len(COLUMNS))} "
                        f"WHERE ({active} AND submitter = ?) < ? AND ({active}) < ?")
        with self._session() as db:
            inserted = db.execute(sql, [*values, *ACTIVE, job.submitter, per_identity, *ACTIVE, total]).rowcount > 0
        return None if inserted else self.active_counts(job.submitter)

    def _duration(self) -> str:
        return "EXTRACT(EPOCH FROM (COALESCE(finished, ?)::timestamptz - started::timestamptz))"

    def beat(self, owner: str) -> None:
        with self._session() as db:
            db.execute("INSERT INTO servers (owner, beat) VALUES (%s, now()) "
                       "ON CONFLICT (owner) DO UPDATE SET beat = now()", (owner,))

    def fresh_owners(self, max_age_s: float) -> set[str]:
        with self._session() as db:
            rows = db.execute("SELECT owner FROM servers WHERE beat >= now() - make_interval(secs => %s)",
                              (float(max_age_s),)).fetchall()
        return {r[0] for r in rows}

    def close(self) -> None:
        pool, conn = self._pool, self._conn
        self._pool = self._conn = None
        for thing in (pool, conn):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001 - closing: nothing left to do
                    log.debug("closing the job store failed", exc_info=True)


def _session_options(url: str) -> dict:
    """`synchronous_commit=off` unless the URL sets its own `options`.

    A commit then returns before its WAL record is flushed (PostgreSQL flushes within
    ~3 x wal_writer_delay): a crash of the database server, never of cubeserver, may
    lose the last fraction of a second of job updates, but nothing is corrupted. That is
    the trade the SQLite store makes with `synchronous=NORMAL`. For full durability put
    `?options=-c%20synchronous_commit%3Don` in the URL.
    """
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {} if "options" in conninfo_to_dict(url) else {"options": "-c synchronous_commit=off"}
    except Exception:  # noqa: BLE001 - a malformed URL fails, with a proper message, when connecting
        return {}


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
