"""A point series and a 20°×20°×1-day window of the benchmark cube over OPeNDAP, next to the same
cells through EDR as NetCDF and through Zarr over HTTP.

Generates the cube with benchmarks/synthetic.py if absent, serves it with the real CLI on a free
port and prints medians of `--repeat` runs (after one warm-up) as a Markdown table. OPeNDAP is
xarray's default netCDF4 engine (netCDF-C, DAP2: one `.dods` hyperslab request per read) and the
pydap engine (DAP4); EDR is `f=netcdf` downloaded with requests and read with xarray; Zarr is
stock `xr.open_zarr(url)`. Every column's values are checked equal to the local store's.

    python benchmarks/opendap.py                # 5 runs each, benchmarks/data/cube.zarr
    python benchmarks/opendap.py --repeat 9 --cube /tmp/cube.zarr
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import requests
import xarray as xr
from pydap.client import open_url

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import synthetic  # noqa: E402
from zarr_http import DAY, EDR_POINT, EDR_WINDOW, POINT, WINDOW, edr_netcdf, median_time, serve  # noqa: E402


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
    local = xr.open_zarr(args.cube)
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = serve(args.cube, Path(tmp))
        dap = f"{base}/collections/cube/opendap"
        try:
            openers = {
                "OPeNDAP netCDF4 (DAP2)": lambda: xr.open_dataset(dap, engine="netcdf4"),
                # the protocol given to pydap directly: a dap4:// URL makes pydap try https first
                "OPeNDAP pydap (DAP4)": lambda: xr.open_dataset(xr.backends.PydapDataStore(open_url(dap, protocol="dap4"))),
                "Zarr over HTTP": lambda: xr.open_zarr(f"{base}/collections/cube/zarr"),
            }
            opened = {}
            for name, fn in openers.items():
                t, opened[name] = median_time(fn, args.repeat)
                rows.append(("open", name, t))
            for label, sel, nearest, query in (("point series", POINT, True, EDR_POINT),
                                               ("20°×20°×1 day window", WINDOW, False, EDR_WINDOW)):
                def pick(ds, sel=sel, nearest=nearest):
                    return (ds.t2m.sel(sel, method="nearest") if nearest else ds.t2m.sel(sel)).values

                want = pick(local)
                for name, ds in opened.items():
                    t, got = median_time(lambda ds=ds: pick(ds), args.repeat)
                    assert np.array_equal(got, want, equal_nan=True), (label, name)
                    rows.append((f"{label} ({want.size:,} values)", name, t))
                t, (got, size) = median_time(lambda: edr_netcdf(session, base, query, Path(tmp)), args.repeat)
                assert np.array_equal(np.squeeze(got), np.squeeze(want), equal_nan=True), (label, "EDR")
                rows.append((f"{label} ({want.size:,} values)", f"EDR NetCDF ({size / 1e6:.2f} MB)", t))
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"\n{os.cpu_count()} CPUs, median of {args.repeat} runs; cube {dict(local.sizes)}, day {DAY.start[:10]}\n")
    print("| step | client | time |")
    print("|---|---|---:|")
    for step, name, t in rows:
        print(f"| {step} | {name} | {t * 1000:.0f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
