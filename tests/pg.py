"""A throw-away PostgreSQL server for tests and benchmarks: `initdb` + `pg_ctl` in a temp dir.

PostgreSQL refuses to run as root, so when the tests run as root (as in CI) the server
runs as an unprivileged user (`postgres` if the package created it, else `nobody`) that
owns the temp dir. The binaries are found on PATH or in Debian's /usr/lib/postgresql/N/bin.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server binary (initdb, pg_ctl), or None when PostgreSQL is not installed."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def missing() -> str | None:
    """Why a PostgreSQL test cannot run here, or None."""
    if not (pg_bin("initdb") and pg_bin("pg_ctl")):
        return "PostgreSQL server binaries (initdb, pg_ctl) not installed: apt-get install postgresql"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg 3 not installed: pip install 'cubeserver[postgres]'"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster on 127.0.0.1 with password (scram) authentication; `url` connects to it.

    `durable=False` turns fsync off (tests); the benchmark keeps PostgreSQL's defaults.
    """

    def __init__(self, durable: bool = False):
        # as root: under /tmp, which the unprivileged server user can traverse (unlike a TMPDIR in /root)
        self.dir = Path(tempfile.mkdtemp(prefix="cubeserver-pg-", dir="/tmp" if os.geteuid() == 0 else None))
        self.data, self.log = self.dir / "data", self.dir / "server.log"
        self.port = _free_port()
        self.user, self.password, self.db = "cubeserver", secrets.token_hex(12), "postgres"
        self.durable = durable
        self._run_as = None
        if os.geteuid() == 0:
            name = "postgres" if _user_exists("postgres") else "nobody"
            pw = pwd.getpwnam(name)
            self._run_as = (pw.pw_uid, pw.pw_gid)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.db}"

    def _run(self, *cmd: str, timeout: float = 120) -> None:
        kw = {}
        if self._run_as:
            kw = {"user": self._run_as[0], "group": self._run_as[1], "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        r = subprocess.run(cmd, cwd=self.dir, env=env, capture_output=True, text=True, timeout=timeout, **kw)
        if r.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{Path(cmd[0]).name} failed ({r.returncode}): {r.stderr[-2000:]}\n{log}")

    def start(self) -> PostgresServer:
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password + "\n")
        if self._run_as:
            os.chown(pwfile, *self._run_as)
        self._run(pg_bin("initdb"), "-D", str(self.data), "-U", self.user, f"--pwfile={pwfile}",
                  "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        pwfile.unlink()
        opts = f"-p {self.port} -h 127.0.0.1 -k {self.dir} -c max_connections=200"
        if not self.durable:
            opts += " -c fsync=off -c full_page_writes=off"
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def new_database(self, name: str) -> str:
        """A fresh empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
