"""Shared fixtures: the real bundled datasets, an in-process client and a live CLI server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import xarray as xr

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "datasets"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def config():
    from cubeserver.config import load_config

    config = load_config(None)
    # the whole suite shares this client address for thousands of executions; the rate limit has its own tests
    config.limits.execute_rate = None
    return config


@pytest.fixture(scope="session")
def app(config, tmp_path_factory):
    from cubeserver.app import create_app

    config.state_dir = str(tmp_path_factory.mktemp("state"))
    return create_app(config)


def app_on_shared_collections(shared_app, config):
    """An app of its own (config, job store, job sources, lifespan) on the collections `shared_app` has
    already opened: opening every bundled collection again costs seconds per app."""
    import copy

    from cubeserver.app import create_app

    registry = copy.copy(shared_app.state.ctx.registry)
    registry.sources = []  # job collections come from this app's own job store
    return create_app(config, registry=registry)


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


def start_server(config_path: Path | None, tmp: Path, extra_env: dict | None = None, args: tuple = ()):
    """Start `cubeserver serve` as a real process on a free port; returns (process, base_url).

    `args`: more command-line options (e.g. "--skip-broken"); the log is `tmp/server-<port>.log`.
    """
    port = free_port()
    cmd = [sys.executable, "-m", "cubeserver.cli", "serve", "--port", str(port), "--log-level", "info", *args]
    if config_path:
        cmd += ["--config", str(config_path)]
    env = {**os.environ, **(extra_env or {})}
    log = open(tmp / f"server-{port}.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT))
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{(tmp / f'server-{port}.log').read_text()[-3000:]}")
        try:
            if requests.get(base + "/conformance", timeout=2).status_code == 200:
                return proc, base
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start in 90 s")


@contextlib.contextmanager
def default_server(tmp: Path):
    """The real CLI serving the bundled default config (state in `tmp`); yields (process, base_url)."""
    proc, base = start_server(None, tmp, {"CUBESERVER_STATE_DIR": str(tmp / "state")})
    try:
        yield proc, base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The real CLI serving the bundled default config on a free port."""
    with default_server(tmp_path_factory.mktemp("live")) as (_, base):
        yield base


def open_source(name: str) -> xr.Dataset:
    """Open a bundled dataset directly with xarray: the ground truth for value checks."""
    path = DATASETS / name
    if name.endswith(".zarr"):
        return xr.open_zarr(path, consolidated=False)
    return xr.open_dataset(path)


CASES_SRC = ROOT.parent / "shared" / "cases"


@pytest.fixture(scope="session")
def cases(tmp_path_factory) -> Path:
    """The small files of ../shared/cases (kinds other servers serve wrongly), generated once.

    Each generator writes its files into one temporary folder; the right answers are in
    ../shared/cases/README.md and in the tests that use them.
    """
    out = tmp_path_factory.mktemp("cases")
    scripts = sorted(CASES_SRC.glob("c*.py"))
    assert scripts, f"no case generators in {CASES_SRC}"
    for script in scripts:
        subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True, cwd=str(out))
    return out


def client_for(collections: dict, tmp: Path, **server):
    """A TestClient (context manager) on a config of `collections` ({id: {path: ..., ...}})."""
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    raw = {"state_dir": str(tmp / "state"), "collections": collections, **server}
    return TestClient(create_app(config_from_dict(raw, tmp)))


@contextlib.contextmanager
def serve_in_thread(app):
    """`app` behind a real uvicorn socket in a thread, for clients that speak HTTP themselves
    (xarray's Zarr/fsspec, GDAL); yields the base URL and stops the server afterwards."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
