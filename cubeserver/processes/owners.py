"""Which server process owns a job, and whether it still runs: pids on this machine, heartbeats elsewhere.

An owner id is `host:pid:start-time:token:machine`. On the machine that wrote it (same
host name, same kernel boot and pid namespace) the pid and its start time answer at once,
so a kill -9 is seen on the next read. For a process on another machine (several
servers on one PostgreSQL store) only its heartbeat in the store can tell: it is alive
while its last beat is at most STALE_S seconds old.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from functools import lru_cache
from typing import Callable

log = logging.getLogger("cubeserver.processes")

HEARTBEAT_S = 5.0  # how often a server process beats (and sweeps jobs of dead owners)
STALE_S = 30.0  # a process on another machine without a beat for this long is taken as dead


@lru_cache(maxsize=1)
def machine_key() -> str:
    """This kernel boot and pid namespace: where a pid means the same process."""
    try:
        boot = open("/proc/sys/kernel/random/boot_id").read().strip()
        ns = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        boot, ns = socket.gethostname(), ""
    return hashlib.blake2b(f"{boot}/{ns}".encode(), digest_size=4).hexdigest()


def owner_id() -> str:
    """This server process, unambiguously: host, pid, the pid's start time (pids are reused), a token, the machine."""
    import psutil

    return (f"{socket.gethostname()}:{os.getpid()}:{int(psutil.Process().create_time())}:"
            f"{uuid.uuid4().hex[:8]}:{machine_key()}")


def local(owner: str) -> bool:
    """Whether `owner` ran on this machine (its pid can be checked here)."""
    parts = owner.split(":")
    return parts[0] == socket.gethostname() and (len(parts) < 5 or parts[4] == machine_key())


def pid_alive(owner: str) -> bool:
    import psutil

    try:
        _, pid, started = owner.split(":")[:3]
        return int(psutil.Process(int(pid)).create_time()) == int(started)
    except (ValueError, psutil.Error):
        return False


def owner_alive(owner: str, fresh: set[str] | None = None) -> bool:
    """Whether the server process that owns a job still runs.

    `fresh`: owners with a recent heartbeat (JobStore.fresh_owners); without it, an owner
    on another machine counts as dead.
    """
    if local(owner):
        return pid_alive(owner)
    return fresh is not None and owner in fresh


class Heartbeat:
    """A daemon thread: beat every HEARTBEAT_S seconds and call `sweep` (fail the jobs of dead owners)."""

    def __init__(self, beat: Callable[[], None], sweep: Callable[[], None], interval: float = HEARTBEAT_S):
        self.beat, self.sweep, self.interval = beat, sweep, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cubeserver-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            t = time.monotonic()
            try:
                self.beat()
                self.sweep()
            except Exception:  # noqa: BLE001 - the store may be briefly unreachable; the next beat retries
                log.warning("job store heartbeat failed", exc_info=log.isEnabledFor(logging.DEBUG))
            if time.monotonic() - t > STALE_S / 2:
                log.warning("job store heartbeat took %.0f s; other servers may take this one for dead",
                            time.monotonic() - t)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
