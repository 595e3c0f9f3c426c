"""`cubeserver serve --workers 2`: several processes, each serving the time-series copy, answering as the source.

A real server process with two uvicorn worker processes (psutil sees them), a collection with a built
time-series copy; point series are compared with xarray on the source, then the source changes and
every worker answers the new values (no worker keeps using its now stale copy).
"""

from __future__ import annotations

import subprocess

import numpy as np
import psutil
import requests
import xarray as xr
import yaml

from cubeserver.cli import main as cli
from tests.conftest import start_server
from tests.test_timeseries_layout import NT, NX, NY, _source


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _series(base, lon, lat):
    r = requests.get(f"{base}/collections/ts/position", params={"coords": f"POINT({lon} {lat})", "parameter-name": "tas"}, timeout=60)  # requests' own Accept-Encoding
    assert r.status_code == 200, r.text
    return np.array([np.nan if v is None else v for v in r.json()["ranges"]["tas"]["values"]], dtype="float32")


def test_two_workers_serve_the_copy_and_drop_it_when_the_source_changes(tmp_path, capsys):
    src = _source(tmp_path / "src.zarr")
    cfg = tmp_path / "server.yaml"
    cfg.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"),
                                   "collections": {"ts": {"path": str(src), "timeseries": True}}}))
    assert cli(["build-timeseries", "--config", str(cfg), "ts"]) == 0
    proc, base = start_server(cfg, tmp_path, args=("--workers", "2"))
    try:
        workers = [p for p in psutil.Process(proc.pid).children(recursive=True) if "python" in p.name().lower()]
        assert len(workers) >= 2, [p.cmdline() for p in workers]
        with xr.open_zarr(src) as ds:
            want = ds.tas.sel(lon=7.1, lat=42.3, method="nearest").values
        for _ in range(12):  # new connections: the kernel spreads them over both workers
            np.testing.assert_array_equal(_series(base, 7.1, 42.3), want)
        new = xr.Dataset({"tas": (("time", "lat", "lon"), np.full((NT, NY, NX), 251.5, "float32"))})
        new.to_zarr(src, region={"time": slice(0, NT), "lat": slice(0, NY), "lon": slice(0, NX)}, consolidated=False)
        for _ in range(12):
            np.testing.assert_array_equal(_series(base, 7.1, 42.3), np.full(NT, 251.5, "float32"))
    finally:
        _stop(proc)
