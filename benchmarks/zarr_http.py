"""Opening the benchmark cube over Zarr-HTTP and pulling a point series and a 20°×20°×1-day window,
next to the same cells through EDR as NetCDF and straight from the local store.

Generates the cube with benchmarks/synthetic.py if absent, serves it with the real CLI on
a free port and prints medians of `--repeat` runs (after one warm-up) as a Markdown table.
Zarr-HTTP is stock `xr.open_zarr(url)` (zarr 3 + fsspec/aiohttp); EDR is `f=netcdf`
downloaded with requests and read with xarray; local is `xr.open_zarr(path)`.

    python benchmarks/zarr_http.py                # 5 runs each, benchmarks/data/cube.zarr
    python benchmarks/zarr_http.py --repeat 9 --cube /tmp/cube.zarr
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import requests
import xarray as xr

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import synthetic  # noqa: E402
from serve import start_server  # noqa: E402

POINT = {"lat": 45.1, "lon": 10.1}
DAY = slice("2024-01-03T00", "2024-01-03T23")
WINDOW = {"lat": slice(0, 20), "lon": slice(0, 20), "time": DAY}
EDR_POINT = ("position", {"coords": "POINT(10.1 45.1)", "f": "netcdf"})
EDR_WINDOW = ("cube", {"bbox": "0,0,20,20", "datetime": "2024-01-03T00:00:00Z/2024-01-03T23:00:00Z", "f": "netcdf"})


def serve(cube: Path, workdir: Path) -> tuple[subprocess.Popen, str]:
    return start_server(cube, workdir)


def median_time(fn, repeat: int):
    out = fn()  # warm-up: connection, server metadata cache, page cache
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def edr_netcdf(session: requests.Session, base: str, query: tuple[str, dict], workdir: Path) -> tuple[np.ndarray, int]:
    r = session.get(f"{base}/collections/cube/{query[0]}", params={**query[1], "parameter-name": "t2m"})
    r.raise_for_status()
    path = workdir / "answer.nc"
    path.write_bytes(r.content)
    with xr.open_dataset(path) as ds:
        return ds["t2m"].values, len(r.content)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cube", type=Path, default=synthetic.DEFAULT_OUTPUT)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--days", type=int, default=10, help="cube length when it has to be generated")
    args = ap.parse_args(argv)
    synthetic.ensure(args.cube, args.days)
    warnings.simplefilter("ignore")
    session = requests.Session()
    session.headers["Accept-Encoding"] = "identity"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = serve(args.cube, Path(tmp))
        url = f"{base}/collections/cube/zarr"
        try:
            t_open, remote = median_time(lambda: xr.open_zarr(url), args.repeat)
            t_lopen, local = median_time(lambda: xr.open_zarr(args.cube), args.repeat)
            rows.append(("open", t_open, None, t_lopen))
            for label, sel, nearest, query in (("point series (240 h)", POINT, True, EDR_POINT),
                                               ("20°×20°×1 day window", WINDOW, False, EDR_WINDOW)):
                def pick(ds, sel=sel, nearest=nearest):
                    return (ds.t2m.sel(sel, method="nearest") if nearest else ds.t2m.sel(sel)).values

                t_zarr, a = median_time(lambda: pick(remote), args.repeat)
                t_edr, (b, size) = median_time(lambda: edr_netcdf(session, base, query, Path(tmp)), args.repeat)
                t_local, c = median_time(lambda: pick(local), args.repeat)
                assert np.array_equal(a, c) and np.array_equal(np.squeeze(b), np.squeeze(c)), label
                rows.append((f"{label}: {c.size:,} values, NetCDF {size / 1e6:.2f} MB", t_zarr, t_edr, t_local))
        finally:
            proc.terminate()
            proc.wait(10)
    chunks = remote.t2m.encoding.get("chunks")
    print(f"\n{os.cpu_count()} CPUs, median of {args.repeat} runs; cube {dict(local.sizes)}, source chunks "
          f"{tuple(c[0] for c in local.t2m.chunks)}, Zarr-HTTP chunks {chunks}\n")
    print("| step | Zarr over HTTP | EDR NetCDF | local Zarr store |")
    print("|---|---:|---:|---:|")
    for label, z, e, loc in rows:
        print(f"| {label} | {z * 1000:.0f} ms | {'—' if e is None else f'{e * 1000:.0f} ms'} | {loc * 1000:.0f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
