"""Point time series with and without a time-series copy (issue 15 item 5), over HTTP with real-client headers.

Serves two cubes, each twice in one `cubeserver serve` process: as collection `X` (its source only)
and as `X-ts` (the same path with `timeseries: true`, its copy built first with
`cubeserver build-timeseries`):
  cube   - benchmarks/synthetic.py's 0.25° hourly cube (14 days = 336 steps, chunks 24x180x360),
  decade - ten years of hourly steps (87 600) on a 40x40 0.25° grid, chunks 24x40x40 (written here).
For each query: the median wall time over one kept-alive http.client connection sending the headers
httpx/browsers send (Accept-Encoding: gzip, deflate, br, zstd), the bytes on the wire, and the
in-process floor (the same selection with xarray on the source). Every answer is checked against
xarray on the source.

    python benchmarks/timeseries.py                 # 31 runs each
    python benchmarks/timeseries.py --repeat 101 --workers 2
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import xarray as xr

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import synthetic  # noqa: E402
from serve import launch  # noqa: E402

HEADERS = {"Accept-Encoding": "gzip, deflate, br, zstd", "Accept": "*/*", "User-Agent": "python-httpx/0.28.1"}
DECADE = HERE / "data" / "decade.zarr"


def write_decade(path: Path = DECADE, years: int = 10, n: int = 40) -> Path:
    """87 600 hourly steps x n x n cells (0.25°, around 10°E 45°N), chunks 24 x n x n, Blosc-LZ4 (~0.5 GB)."""
    if path.exists():
        return path
    import dask
    import dask.array as da
    from zarr.codecs import BloscCodec

    steps = years * 8760
    lat = np.round(40 + 0.125 + 0.25 * np.arange(n), 6)
    lon = np.round(5 + 0.125 + 0.25 * np.arange(n), 6)
    times = pd.date_range("2015-01-01", periods=steps, freq="h").values

    def block(t0, nt):
        rng = np.random.default_rng([7, t0])
        h = np.arange(t0, t0 + nt, dtype="float64")[:, None, None]
        la, lo = np.deg2rad(lat)[None, :, None], np.deg2rad(lon)[None, None, :]
        season = -12 * np.cos(2 * np.pi * h / 8766.0)
        diurnal = 5 * np.cos(2 * np.pi * h / 24.0 + lo)
        return (283 + season + diurnal - 20 * np.sin(la) ** 2 + rng.normal(0, 0.5, (nt, n, n))).astype("float32")

    step = 24 * 30
    parts = [da.from_delayed(dask.delayed(block)(t0, min(step, steps - t0)), (min(step, steps - t0), n, n), "float32")
             for t0 in range(0, steps, step)]
    ds = xr.Dataset({"t2m": (("time", "lat", "lon"), da.concatenate(parts).rechunk((24, n, n)),
                             {"standard_name": "air_temperature", "units": "K"})},
                    coords={"time": ("time", times, {"standard_name": "time"}),
                            "lat": ("lat", lat, {"standard_name": "latitude", "units": "degrees_north"}),
                            "lon": ("lon", lon, {"standard_name": "longitude", "units": "degrees_east"})})
    tmp = path.with_name(path.name + ".partial")
    with dask.config.set(scheduler="threads"):
        ds.to_zarr(tmp, mode="w", consolidated=True, zarr_format=3, encoding={"t2m": {
            "chunks": (24, n, n), "compressors": [BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")]}})
    tmp.rename(path)
    return path


class Client:
    def __init__(self, base: str):
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)

    def get(self, path: str, params: dict) -> tuple[bytes, int, str]:
        """(decoded body, bytes on the wire, content-encoding); reconnects after the server's keep-alive timeout."""
        try:
            self.conn.request("GET", f"{path}?{urlencode(params)}", headers=HEADERS)
            r = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            self.conn.close()
            self.conn.request("GET", f"{path}?{urlencode(params)}", headers=HEADERS)
            r = self.conn.getresponse()
        raw = r.read()
        if r.status != 200:
            raise RuntimeError(f"{path}: {r.status} {raw[:300]!r}")
        enc = r.getheader("Content-Encoding") or "identity"
        return decode(raw, enc), len(raw), enc


def decode(raw: bytes, enc: str) -> bytes:
    if enc == "gzip":
        import gzip
        return gzip.decompress(raw)
    if enc == "br":
        import brotli
        return brotli.decompress(raw)
    if enc == "zstd":
        import zstandard
        return zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    if enc == "deflate":
        import zlib
        return zlib.decompress(raw)
    return raw


def median_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def build_copy(cfg: Path, cid: str) -> None:
    subprocess.run([sys.executable, "-m", "cubeserver.cli", "build-timeseries", "--config", str(cfg), cid],
                   cwd=str(ROOT), check=True, stdout=subprocess.DEVNULL)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=31)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the time-series copies (default: when missing)")
    ap.add_argument("--days", type=int, default=14, help="length of the synthetic cube when generated")
    args = ap.parse_args(argv)
    cube = synthetic.ensure(synthetic.DEFAULT_OUTPUT, args.days)
    decade = write_decade()
    cubes = {"cube": cube, "decade": decade}
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = tmp / "bench.yaml"
        cfg.write_text(f"state_dir: {HERE / 'data' / 'state'}\ncollections:\n" + "".join(
            f"  {cid}:\n    path: {p}\n  {cid}-ts:\n    path: {p}\n    timeseries: true\n" for cid, p in cubes.items()))
        for cid in cubes:
            if not args.rebuild and (HERE / "data" / "state" / "timeseries" / f"{cid}-ts.zarr").exists():
                continue
            t0 = time.perf_counter()
            build_copy(cfg, f"{cid}-ts")
            print(f"{cid}: copy built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        proc, base = launch(cfg, tmp, args=("--workers", str(args.workers)))
        try:
            client = Client(base)
            for cid, path in cubes.items():
                var = xr.open_zarr(path)["t2m"]
                t = var.time.values
                day = (f"{pd.Timestamp(t[48]).isoformat()}Z/{pd.Timestamp(t[71]).isoformat()}Z", slice(48, 72))
                cases = [("all steps", {}, slice(None)), ("1 day", {"datetime": day[0]}, day[1])]
                for label, extra, tsel in cases:
                    params = {"coords": "POINT(10.1 45.1)", **extra}
                    pt = var.sel(lat=45.1, lon=10.1, method="nearest")
                    expected = pt.isel(time=tsel).values
                    floor = median_ms(lambda: pt.isel(time=tsel).values, max(5, args.repeat // 4))
                    row = [f"{cid} ({var.sizes['time']:,} steps) point, {label}", f"{floor:.1f} ms"]
                    for which in (cid, f"{cid}-ts"):
                        body, wire, enc = client.get(f"/collections/{which}/position", params)
                        got = np.array(json.loads(body)["ranges"]["t2m"]["values"], dtype="float32")
                        assert np.array_equal(got, expected, equal_nan=True), f"{which} {label}: values differ"
                        ms = median_ms(lambda: client.get(f"/collections/{which}/position", params), args.repeat)
                        row.append(f"{ms:.1f} ms")
                    row.append(f"{wire / 1e3:.1f} kB {enc}")
                    lines.append("| " + " | ".join(row) + " |")
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, {args.repeat} runs (medians), "
          f"--workers {args.workers}, client headers {HEADERS['Accept-Encoding']!r}\n")
    print("| query | xarray floor (source) | server, source | server, time-series copy | on the wire |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
