"""The embedded job store: one SQLite file in WAL mode, shared by the server processes of one machine."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .base import COLUMNS
from .sql import INDEXES, SQLJobStore, column_types

_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


class SQLiteJobStore(SQLJobStore):
    """One connection guarded by a lock (writes are tiny); `synchronous=NORMAL`: a commit is not an fsync.

    Several processes of one machine (`--workers N`) may open the same file. Not for a
    network file system: SQLite's locking is unreliable there (use PostgreSQL).
    """

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._db.execute(f"CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, {column_types()})")
            self._migrate()
            for sql in INDEXES:
                self._db.execute(sql)
            self._db.execute("CREATE TABLE IF NOT EXISTS servers (owner TEXT PRIMARY KEY, beat TEXT)")

    def _migrate(self) -> None:
        """Stores written by older versions: add the Job fields they lack (TEXT, NULL); fill `collection`."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for col in [c for c in COLUMNS if c not in have]:
            try:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {col} {'INTEGER' if col == 'progress' else 'TEXT'}")
            except sqlite3.OperationalError as e:  # another process of this server migrated it just now
                if "duplicate column" not in str(e):
                    raise
            if col == "collection":
                self._db.execute("UPDATE jobs SET collection = 'job-' || id WHERE status = 'successful' "
                                 "AND results LIKE '%\"kind\":\"coverage\"%'")

    @contextmanager
    def _session(self):
        with self._lock:
            yield self._db

    def _duration(self) -> str:
        return "(julianday(COALESCE(finished, ?)) - julianday(started)) * 86400.0"

    def beat(self, owner: str) -> None:
        stamp = datetime.now(timezone.utc).strftime(_STAMP)
        with self._session() as db:
            db.execute("INSERT INTO servers (owner, beat) VALUES (?, ?) "
                       "ON CONFLICT (owner) DO UPDATE SET beat = excluded.beat", (owner, stamp))

    def fresh_owners(self, max_age_s: float) -> set[str]:
        since = (datetime.now(timezone.utc) - timedelta(seconds=max_age_s)).strftime(_STAMP)
        with self._session() as db:
            return {r[0] for r in db.execute("SELECT owner FROM servers WHERE beat >= ?", (since,))}

    def close(self) -> None:
        with self._lock:
            self._db.close()

