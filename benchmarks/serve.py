"""Start `cubeserver serve` on a synthetic cube for a benchmark: one helper for every script."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(cube: Path, workdir: Path, extra_yaml: str = "", args: tuple = (),
                 collection_yaml: str = "") -> tuple[subprocess.Popen, str]:
    """Serve `cube` as collection `cube` from a config in `workdir`; returns (process, base URL).
    `args`: more CLI options, e.g. ("--workers", "2"); `collection_yaml`: more keys of the collection
    (lines indented by 4 spaces)."""
    cfg = workdir / "bench.yaml"
    cfg.write_text(f"state_dir: {workdir / 'state'}\n{extra_yaml}"
                   f"collections:\n  cube:\n    path: {Path(cube).resolve()}\n    title: synthetic\n{collection_yaml}")
    return launch(cfg, workdir, args=args)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by a process (all its threads) and its live children
    (the worker processes of `--workers N`)."""
    import psutil

    total = 0.0
    for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def settle(pid: int, idle_share: float = 0.1, timeout: float = 60.0) -> float:
    """Wait until the server process tree uses less than `idle_share` of a core over half a second (its
    start-up work, e.g. loading the process catalogue in a background thread, is done), so the first
    timed row does not pay for it; returns the seconds waited."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - before < idle_share * 0.5:
            break
    return time.time() - t0


def launch(cfg: Path, workdir: Path, env: dict | None = None, args: tuple = ()) -> tuple[subprocess.Popen, str]:
    """`cubeserver serve --config cfg` on a free port (more CLI options in `args`, e.g. ("--workers", "2"),
    environment overrides in `env`); waits until it answers and returns (process, base URL).
    The log is `workdir/server.log`."""
    port = free_port()
    log = open(workdir / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "cubeserver.cli", "serve", "--config", str(cfg), "--port", str(port),
                             "--log-level", "warning", *args], cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((workdir / "server.log").read_text()[-2000:])
        try:
            if requests.get(f"{base}/conformance", timeout=2).ok:
                settle(proc.pid)
                return proc, base
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start")
