"""temporal-aggregate (monthly mean) on a seeded synthetic cube: 1 vs 2 dask workers, and memory
when the cube is larger than a worker's memory limit.

Each run builds a server app in-process (create_app + TestClient) on its own LocalCluster,
executes the process synchronously (validate, compute on the cluster, write NetCDF + Zarr,
publish the collection) and samples the workers' and the server's RSS every 50 ms.
The result is checked against numpy; a first row gives the same lazy computation on dask's
threaded scheduler in-process (no cluster) as the floor. Run by hand:

    python benchmarks/processes.py                       # 722 MiB cube, limits 1 GiB and 384 MiB
    python benchmarks/processes.py --days 365 --small-limit 512MiB --repeat 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import xarray as xr


def make_cube(path: Path, days: int, ny: int, nx: int, chunks: dict, seed: int = 0) -> np.ndarray:
    """Daily float32 field with a seasonal cycle and noise, written as chunked Zarr; returns the data."""
    rng = np.random.default_rng(seed)
    time_ = pd.date_range("2001-01-01", periods=days, freq="D")
    season = (10 * np.cos(2 * np.pi * time_.dayofyear.values / 365.0)).astype("float32")
    data = rng.standard_normal((days, ny, nx), dtype="float32") + season[:, None, None]
    ds = xr.Dataset(
        {"tas": (("time", "lat", "lon"), data, {"units": "K", "standard_name": "air_temperature"})},
        coords={"time": time_,
                "lat": ("lat", np.linspace(-90 + 90 / ny, 90 - 90 / ny, ny), {"units": "degrees_north"}),
                "lon": ("lon", np.linspace(-180 + 180 / nx, 180 - 180 / nx, nx), {"units": "degrees_east"})},
    )
    ds.chunk(chunks).to_zarr(path, consolidated=True, zarr_format=2, mode="w")
    return data


class PeakRSS:
    """Samples RSS of each dask worker and the growth of this (server) process's RSS until stopped."""

    def __init__(self, client, interval: float = 0.05):
        self.client, self.interval = client, interval
        self.server = self.workers = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        base = me.memory_info().rss
        while not self._stop.is_set():
            self.server = max(self.server, me.memory_info().rss - base)
            try:
                rss = self.client.run(lambda: psutil.Process().memory_info().rss)
                self.workers = max([self.workers, *rss.values()])
            except Exception:  # noqa: BLE001 - a worker restarting: sample again
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def run_once(zarr_path: Path, state: Path, workers: int, memory_limit: str, expected: np.ndarray) -> dict:
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    cfg = config_from_dict({"state_dir": str(state), "collections": {"cube": {"path": str(zarr_path)}},
                            "limits": {"max_cells": 10**10},
                            "dask": {"workers": workers, "threads_per_worker": 1, "memory_limit": memory_limit}},
                           zarr_path.parent)
    app = create_app(cfg)
    with TestClient(app) as c:
        client = app.state.ctx.services["jobs"].runner.client()  # cluster start is not timed
        with PeakRSS(client) as peak:
            t0 = time.perf_counter()
            r = c.post("/processes/temporal-aggregate/execution",
                       json={"inputs": {"collection": "cube", "grouping": "month"}, "response": "document"})
            wall = time.perf_counter() - t0
        ok = r.status_code == 200
        if ok:
            job = r.headers["link"].split("/jobs/")[1].split(">")[0]
            out = xr.open_zarr(app.state.ctx.services["jobs"].job_dir(job) / "result.zarr")["tas"].values
            ok = np.allclose(out, expected, rtol=1e-5, atol=1e-5)
    return {"workers": workers, "limit": memory_limit, "wall": wall, "ok": ok,
            "worker_peak": peak.workers / 2**20, "server_peak": peak.server / 2**20}


def run_local(zarr_path: Path, expected: np.ndarray) -> dict:
    """Baseline: the same lazy computation with dask's threaded scheduler in this process (no cluster)."""
    from cubeserver.processes.grouped import grouped_reduce
    from cubeserver.processes.inputs import period_labels

    src = xr.open_zarr(zarr_path)["tas"]
    lazy = grouped_reduce(src, "time", period_labels(src["time"].values, "month", "standard"), "mean")
    me = psutil.Process()
    base = me.memory_info().rss
    peak, stop = [base], threading.Event()

    def sample():
        while not stop.wait(0.05):
            peak.append(me.memory_info().rss)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    out = lazy.compute(scheduler="threads")
    wall = time.perf_counter() - t0
    stop.set()
    t.join()
    return {"workers": "threads", "limit": "-", "wall": wall, "ok": bool(np.allclose(out.values, expected, rtol=1e-5, atol=1e-5)),
            "worker_peak": float("nan"), "server_peak": (max(peak) - base) / 2**20, "tasks": len(lazy.__dask_graph__())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=int, default=730)
    p.add_argument("--ny", type=int, default=360)
    p.add_argument("--nx", type=int, default=720)
    p.add_argument("--chunk-days", type=int, default=30)
    p.add_argument("--limit", default="1GiB", help="worker memory limit for the 1 vs 2 worker runs")
    p.add_argument("--small-limit", default="384MiB", help="a worker memory limit below the cube size")
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cubeserver-bench-"))
    try:
        report(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(args, tmp: Path) -> None:
    cube = tmp / "cube.zarr"
    chunks = {"time": args.chunk_days, "lat": args.ny // 2, "lon": args.nx // 2}
    data = make_cube(cube, args.days, args.ny, args.nx, chunks)
    month = pd.date_range("2001-01-01", periods=args.days, freq="D")
    key = month.year.values * 12 + month.month.values
    expected = np.stack([data[key == k].mean(axis=0) for k in np.unique(key)])
    size_mb = data.nbytes / 2**20
    nchunks = int(np.prod([-(-n // c) for n, c in zip(data.shape, chunks.values())]))
    del data

    rows = [run_local(cube, expected) for _ in range(args.repeat)]
    for workers, limit in [(1, args.limit), (2, args.limit), (2, args.small_limit)]:
        for i in range(args.repeat):
            rows.append(run_once(cube, tmp / f"state-{workers}-{limit}-{i}", workers, limit, expected))

    print(f"\ncube: {args.days} x {args.ny} x {args.nx} float32 = {size_mb:.0f} MiB in {nchunks} chunks; "
          f"monthly mean -> {len(expected)} steps, {rows[0]['tasks']} dask tasks; {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'workers':>7} {'mem limit':>9} {'wall s':>7} {'MiB/s':>7} {'peak worker MiB':>15} {'server +MiB':>11} {'correct':>7}")
    for r in rows:
        print(f"{r['workers']:>7} {r['limit']:>9} {r['wall']:>7.2f} {size_mb / r['wall']:>7.0f} "
              f"{r['worker_peak']:>15.0f} {r['server_peak']:>11.0f} {str(r['ok']):>7}")


if __name__ == "__main__":
    main()
