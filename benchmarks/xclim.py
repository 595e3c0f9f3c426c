"""An xclim indicator process over the ~1 GB synthetic cube (benchmarks/synthetic.py): 1 vs 2 dask workers.

The cube is hourly 2 m temperature (240 steps x 720 x 1440, float32). The process is
`xclim.atmos.tg_mean` with freq=D (the daily mean of the hourly values; data_validation=log
because xclim's tg_mean expects daily input, missing=skip), run synchronously through the
HTTP API in-process (validate, compute on a LocalCluster, write NetCDF + Zarr, publish
job-{id}). Every run's result is compared with the same xclim indicator called directly on
the cube with dask's threaded scheduler, which is also timed as the in-process floor.

    python benchmarks/xclim.py                 # cube from benchmarks/synthetic.py (generated if missing)
    python benchmarks/xclim.py --repeat 2 --limit 2GiB
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

# this file is named xclim.py: its own folder must not shadow the xclim package (python puts it first on the path)
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from benchmarks.synthetic import DEFAULT_OUTPUT, ensure  # noqa: E402

INPUTS = {"collection": "cube", "freq": "D", "data_validation": "log", "missing": "skip"}


def direct(cube: Path) -> tuple[np.ndarray, float]:
    """xclim's tg_mean on the cube with the threaded scheduler: the reference values and the floor time."""
    import xclim
    from xclim.core.options import set_options

    tas = xr.open_zarr(cube)["t2m"]
    t0 = time.perf_counter()
    with warnings.catch_warnings(), set_options(data_validation="log", check_missing="skip", cf_compliance="log"):
        warnings.simplefilter("ignore")
        out = xclim.atmos.tg_mean(tas=tas.chunk({"time": -1, "lat": "auto", "lon": "auto"}), freq="D")
        values = out.compute(scheduler="threads").values
    return values, time.perf_counter() - t0


def run_once(cube: Path, state: Path, workers: int, limit: str, expected: np.ndarray) -> dict:
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    cfg = config_from_dict({"state_dir": str(state), "collections": {"cube": {"path": str(cube)}},
                            "limits": {"max_cells": 10**10},
                            "dask": {"workers": workers, "threads_per_worker": 1, "memory_limit": limit}}, cube.parent)
    app = create_app(cfg)
    with TestClient(app) as c:
        jobs = app.state.ctx.services["jobs"]
        jobs.runner.client()  # the cluster start is not timed
        c.get("/processes/xclim.atmos.tg_mean")  # nor xclim's import
        t0 = time.perf_counter()
        r = c.post("/processes/xclim.atmos.tg_mean/execution", json={"inputs": INPUTS, "response": "document"})
        wall = time.perf_counter() - t0
        ok = r.status_code == 200
        if ok:
            job = r.headers["link"].split("/jobs/")[1].split(">")[0]
            got = xr.open_zarr(jobs.job_dir(job) / "result.zarr")["tg_mean"].values
            ok = bool(np.allclose(got, expected, rtol=1e-5, atol=1e-4))
        else:
            print(r.status_code, r.text[:300], file=sys.stderr)
    return {"workers": workers, "limit": limit, "wall": wall, "ok": ok}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cube", type=Path, default=DEFAULT_OUTPUT)
    p.add_argument("--limit", default="2GiB", help="worker memory limit")
    p.add_argument("--repeat", type=int, default=1)
    args = p.parse_args()
    cube = ensure(args.cube)
    size = sum(f.stat().st_size for f in cube.rglob("*") if f.is_file())
    ds = xr.open_zarr(cube)
    nbytes = ds["t2m"].nbytes
    expected, floor = direct(cube)
    tmp = Path(tempfile.mkdtemp(prefix="cubeserver-xclim-bench-"))
    rows = [{"workers": "threads", "limit": "-", "wall": floor, "ok": True}]
    try:
        for workers in (1, 2):
            for i in range(args.repeat):
                rows.append(run_once(cube, tmp / f"state-{workers}-{i}", workers, args.limit, expected))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    import xclim

    print(f"\nxclim {xclim.__version__} tg_mean(freq=D) on {dict(ds.sizes)} float32 = {nbytes / 2**20:.0f} MiB "
          f"({size / 2**20:.0f} MiB Zarr on disk); {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"{'workers':>7} {'mem limit':>9} {'wall s':>7} {'MiB/s':>7} {'correct':>7}")
    for r in rows:
        print(f"{r['workers']:>7} {r['limit']:>9} {r['wall']:>7.1f} {nbytes / 2**20 / r['wall']:>7.0f} {str(r['ok']):>7}")


if __name__ == "__main__":
    main()
