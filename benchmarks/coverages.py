"""OGC API - Coverages NetCDF downloads over HTTP versus the same subset written in-process (the floor).

Serves the synthetic cube (benchmarks/synthetic.py; generated if absent) with the real
CLI, raising `limits.max_cells` so a ~500 MB answer is allowed, and for each case reports
the median wall time until the last byte arrived, the median time for xarray in this
process to select the same cells and write them to a NetCDF file (the floor: same read,
same encode, no HTTP), and the server's peak resident memory during the case.

    python benchmarks/coverages.py                  # 7 runs for the small case, 3 for the large one
    python benchmarks/coverages.py --repeat 5 --repeat-large 2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import dask
import requests
import xarray as xr

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import synthetic  # noqa: E402
from edr import reset_peak, rss_mb, timed  # noqa: E402 - shared benchmark helpers
from serve import start_server  # noqa: E402

CASES = [
    ("20°×20°×1 day", {"subset": 'lon(0:20),lat(30:50),time("2024-01-02T00:00:00Z":"2024-01-02T23:00:00Z")'},
     lambda v: v.sel(lon=slice(0, 20), lat=slice(30, 50), time=slice("2024-01-02T00", "2024-01-02T23")), "small"),
    ("global × 5 days (≈500 MB)", {"subset": 'time("2024-01-01T00:00:00Z":"2024-01-05T23:00:00Z")'},
     lambda v: v.sel(time=slice("2024-01-01T00", "2024-01-05T23")), "large"),
]


def download(session: requests.Session, url: str, params: dict) -> int:
    """Fetch to the last byte without keeping it: the client's memory must not be the bottleneck."""
    n = 0
    with session.get(url, params={**params, "f": "netcdf"}, stream=True) as r:
        r.raise_for_status()
        for chunk in r.iter_content(1 << 20):
            n += len(chunk)
    return n


def floor_write(var: xr.DataArray, select, directory: str) -> int:
    path = os.path.join(directory, "floor.nc")
    with dask.config.set(scheduler="threads"):
        select(var).to_dataset().to_netcdf(path, engine="netcdf4", format="NETCDF4")
    size = os.path.getsize(path)
    os.remove(path)
    return size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cube", type=Path, default=synthetic.DEFAULT_OUTPUT)
    ap.add_argument("--repeat", type=int, default=7, help="runs of the small case")
    ap.add_argument("--repeat-large", type=int, default=3, help="runs of the large case")
    ap.add_argument("--days", type=int, default=10, help="cube length when it has to be generated")
    args = ap.parse_args(argv)
    synthetic.ensure(args.cube, args.days)
    var = xr.open_zarr(args.cube)["t2m"]
    session = requests.Session()
    session.headers.update({"Accept-Encoding": "identity"})
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_server(args.cube, Path(tmp), "limits:\n  max_cells: 200000000\n")
        url = f"{base}/collections/cube/coverage"
        try:
            rss_start, _ = rss_mb(proc.pid)
            for label, params, select, kind in CASES:
                repeat = args.repeat if kind == "small" else args.repeat_large
                before, _ = rss_mb(proc.pid)
                reset_peak(proc.pid)
                server, size = timed(lambda: download(session, url, params), repeat)
                _, peak = rss_mb(proc.pid)
                floor, _ = timed(lambda: floor_write(var, select, tmp), repeat)
                rows.append((label, select(var).size, size / 1e6, server, floor, before, peak))
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"\n{os.cpu_count()} CPUs; medians of {args.repeat} (small) / {args.repeat_large} (large) runs after one warm-up; "
          f"cube {dict(var.sizes)} chunks {tuple(c[0] for c in var.chunks)}; server RSS at start {rss_start:.0f} MB\n")
    print("| subset (NetCDF) | cells | MB | server (HTTP, last byte) | in-process floor (xarray → .nc) | ratio | "
          "server RSS before → peak |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, cells, mb, server, floor, before, peak in rows:
        print(f"| {label} | {cells:,} | {mb:.1f} | {server * 1000:.0f} ms | {floor * 1000:.0f} ms | "
              f"{server / floor:.2f}× | {before:.0f} → {peak:.0f} MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
