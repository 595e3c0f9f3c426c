"""Durable job records: SQLite embedded (the default), PostgreSQL shared by several machines.

`open_store(setting, state_path)` picks one from the `jobs.store` setting.
"""

from __future__ import annotations

from pathlib import Path

from .base import ACTIVE, FINAL, STATUSES, Job, JobStore, now, redact
from .sqlite import SQLiteJobStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(setting: str | None, state_path: Path) -> JobStore:
    """The job store a `jobs.store` setting names.

    None or "sqlite": `<state_dir>/jobs.sqlite`; "sqlite:///abs/path" or "sqlite:relative/path"
    (relative to the state dir): that file; "postgresql://user@host:port/db": PostgreSQL
    (raises postgres.JobStoreUnavailable, credentials left out, when it cannot be used).
    """
    if not setting or setting == "sqlite":
        return SQLiteJobStore(state_path / "jobs.sqlite")
    if setting.startswith(POSTGRES_SCHEMES):
        from .postgres import PostgresJobStore

        return PostgresJobStore(setting)
    if setting.startswith("sqlite:"):
        rest = setting.removeprefix("sqlite:")
        path = Path(rest[2:]) if rest.startswith("//") else Path(rest)
        return SQLiteJobStore(path if path.is_absolute() else state_path / path)
    raise ValueError(f"jobs.store: {redact(setting)!r} is neither 'sqlite', sqlite:PATH nor postgresql://...")


__all__ = ["ACTIVE", "FINAL", "STATUSES", "Job", "JobStore", "SQLiteJobStore", "now", "open_store", "redact"]
