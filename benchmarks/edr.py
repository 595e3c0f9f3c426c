"""EDR latency over HTTP versus the same selection done in-process with xarray (the floor).

Generates the synthetic cube (benchmarks/synthetic.py) if absent, serves it with the
real CLI on a free port, and for each query reports the median wall time of the HTTP
request (body fully received), the median of the equivalent `xarray ... .values`
in this process, their ratio, the answer size, and the server's memory growth.

    python benchmarks/edr.py                    # defaults: 7 runs each, benchmarks/data/cube.zarr
    python benchmarks/edr.py --repeat 15 --cube /tmp/cube.zarr

The client is the standard library's http.client on one kept-alive connection, reading each
body whole: moving 40 MB through `requests` costs the client 2-3× more CPU than the server
spends sending it, and on 2 shared cores that would be measured as server latency. Requests
send `Accept-Encoding: identity`: the figures are the server's own work, not gzip's.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import xarray as xr

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import synthetic  # noqa: E402
from serve import start_server  # noqa: E402

# Each case: label, query path, parameters, and the same cells selected directly with xarray.
DAY = "2024-01-03T00:00:00Z/2024-01-03T23:00:00Z"
DAYS3 = "2024-01-03T00:00:00Z/2024-01-05T23:00:00Z"
CASES = [
    ("point time series (240 h)", "position", {"coords": "POINT(10.1 45.1)"},
     lambda v: v.sel(lat=45.1, lon=10.1, method="nearest")),
    ("10°×10° area, 1 day", "area", {"coords": "POLYGON((0 0,10 0,10 10,0 10,0 0))", "datetime": DAY},
     lambda v: v.sel(lat=slice(0, 10), lon=slice(0, 10), time=slice("2024-01-03T00", "2024-01-03T23"))),
    ("20°×20°×1 day cube", "cube", {"bbox": "0,0,20,20", "datetime": DAY},
     lambda v: v.sel(lat=slice(0, 20), lon=slice(0, 20), time=slice("2024-01-03T00", "2024-01-03T23"))),
    ("60°×60°×3 day cube", "cube", {"bbox": "-30,0,30,60", "datetime": DAYS3},
     lambda v: v.sel(lat=slice(0, 60), lon=slice(-30, 30), time=slice("2024-01-03T00", "2024-01-05T23"))),
]


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> None:
    """Reset the kernel's peak-RSS counter (VmHWM) so each query's peak is its own."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


class Client:
    """GET over one kept-alive http.client connection; the body read whole (chunked decoding included)."""

    def __init__(self, base: str):
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)

    def get(self, path: str, params: dict) -> bytes:
        from urllib.parse import urlencode

        self.conn.request("GET", f"{path}?{urlencode(params)}", headers={"Accept-Encoding": "identity"})
        r = self.conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"{path}: {r.status} {body[:300]!r}")
        return body


def timed(fn, repeat: int) -> tuple[float, object]:
    fn()  # warm-up: metadata, page cache, connection
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cube", type=Path, default=synthetic.DEFAULT_OUTPUT)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--days", type=int, default=10, help="cube length when it has to be generated")
    args = ap.parse_args(argv)
    synthetic.ensure(args.cube, args.days)
    var = xr.open_zarr(args.cube)["t2m"]
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_server(args.cube, Path(tmp))
        try:
            rss_start, _ = rss_mb(proc.pid)
            client = Client(base)
            for _, qtype, params, _ in CASES:  # warm-up: imports, thread pools, codec buffers, page cache
                client.get(f"/collections/cube/{qtype}", params)
            rss0, _ = rss_mb(proc.pid)
            rows = []
            for label, qtype, params, select in CASES:
                path = f"/collections/cube/{qtype}"

                def fetch():
                    return client.get(path, params)

                before, _ = rss_mb(proc.pid)
                reset_peak(proc.pid)
                cpu0 = cpu_seconds(proc.pid)
                server, body = timed(fetch, args.repeat)
                cpu = (cpu_seconds(proc.pid) - cpu0) / (args.repeat + 1)
                _, peak = rss_mb(proc.pid)
                floor, arr = timed(lambda: select(var).values, args.repeat)
                rows.append((label, arr.size, len(body) / 1e6, server, floor, cpu, peak - before))
            rss1, _ = rss_mb(proc.pid)
            time.sleep(2.5)  # the server returns freed memory (malloc_trim) after a request, at most every 2 s
            client.get("/collections/cube/position", {"coords": "POINT(0 0)", "datetime": DAY})
            time.sleep(0.3)
            rss2, _ = rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"\n{os.cpu_count()} CPUs, {args.repeat} runs each (medians); cube {args.cube.name} "
          f"{dict(var.sizes)} chunks {tuple(c[0] for c in var.chunks)}\n")
    print("| query | cells | CovJSON MB | server (HTTP) | xarray floor | ratio | server CPU/request | "
          "server peak RSS growth |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, cells, mb, server, floor, cpu, grow in rows:
        print(f"| {label} | {cells:,} | {mb:.1f} | {server * 1000:.1f} ms | {floor * 1000:.1f} ms | "
              f"{server / floor:.2f}× | {cpu * 1000:.0f} ms | {grow:.0f} MB |")
    print(f"\nload average when done: {os.getloadavg()[0]:.2f} (other processes share the {os.cpu_count()} CPUs)")
    print(f"\nserver RSS: {rss_start:.0f} MB at start, {rss0:.0f} MB after one warm-up request per query, "
          f"{rss1:.0f} MB right after all runs, {rss2:.0f} MB once settled (next request after 2.5 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
