"""Many large CoverageJSON and NetCDF answers at once on a real server (issue 13, point 3).

Serves the synthetic cube (benchmarks/synthetic.py; generated if absent) with the real CLI and
sends `--clients` simultaneous EDR cube requests (half CoverageJSON, half NetCDF) from httpx
AsyncClients with what real clients send: an Accept for the format, `Accept-Encoding: gzip` and a
User-Agent. A 503 (the memory budget is full) is retried after its Retry-After, as a polite client
does. Reports per format p50/p95 latency (request sent to last byte, retries included), bytes on
the wire and decoded, the 503s, and the server's peak RSS (VmHWM from /proc, reset first) against
its memory budget.

    python benchmarks/streams.py                      # 32 clients, 2 rounds, 60°x60° x 1 day each
    python benchmarks/streams.py --clients 16 --bbox=-30,0,30,60 --cube /tmp/cube.zarr
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import synthetic  # noqa: E402
from edr import reset_peak, rss_mb  # noqa: E402
from serve import start_server  # noqa: E402

DAY = "2024-01-02T00:00:00Z/2024-01-02T23:00:00Z"
FORMATS = {"covjson": ("CoverageJSON", "application/prs.coverage+json"), "netcdf": ("NetCDF", "application/x-netcdf")}


async def fetch(client: httpx.AsyncClient, fmt: str, bbox: str) -> dict:
    f, accept = FORMATS[fmt]
    t0, busy = time.perf_counter(), 0
    while True:
        async with client.stream("GET", "/collections/cube/cube", params={"bbox": bbox, "datetime": DAY, "f": f},
                                 headers={"Accept": accept}) as r:
            decoded = 0
            async for chunk in r.aiter_bytes():
                decoded += len(chunk)
            if r.status_code == 503:
                busy += 1
                await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            return {"format": fmt, "status": r.status_code, "seconds": time.perf_counter() - t0,
                    "wire": r.num_bytes_downloaded, "decoded": decoded, "busy": busy,
                    "gzip": r.headers.get("content-encoding") == "gzip"}


async def burst(base: str, clients: int, bbox: str) -> list[dict]:
    """`clients` requests started together, each on its own connection (half of each format)."""
    headers = {"Accept-Encoding": "gzip", "User-Agent": "cubeserver-bench/1 (httpx)"}
    conns = [httpx.AsyncClient(base_url=base, headers=headers, timeout=600) for _ in range(clients)]
    try:
        return await asyncio.gather(*(fetch(c, "covjson" if i % 2 == 0 else "netcdf", bbox)
                                      for i, c in enumerate(conns)))
    finally:
        await asyncio.gather(*(c.aclose() for c in conns))


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cube", type=Path, default=Path(tempfile.gettempdir()) / "cubeserver-streams.zarr")
    ap.add_argument("--days", type=int, default=2, help="cube length when it has to be generated")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--bbox", default="-30,0,30,60", help="each answer: this bbox x 24 hourly steps (1.4 M values)")
    ap.add_argument("--budget", default="", help="limits.memory_budget_bytes for the server (default: its own)")
    args = ap.parse_args(argv)
    synthetic.ensure(args.cube, args.days)
    extra = f"limits:\n  memory_budget_bytes: {int(args.budget)}\n" if args.budget else ""
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_server(args.cube, Path(tmp), extra)
        try:
            asyncio.run(burst(base, 2, args.bbox))  # warm-up: imports, pools, page cache
            idle, _ = rss_mb(proc.pid)
            reset_peak(proc.pid)
            rows, t0 = [], time.perf_counter()
            for _ in range(args.rounds):
                rows += asyncio.run(burst(base, args.clients, args.bbox))
            wall = time.perf_counter() - t0
            _, peak = rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)
    from cubeserver.config import LimitsConfig

    limit = int(args.budget) if args.budget else LimitsConfig().memory_budget()
    bad = [r for r in rows if r["status"] != 200]
    print(f"{args.clients} concurrent clients x {args.rounds} rounds, EDR cube bbox={args.bbox} x 24 h, "
          f"Accept-Encoding: gzip; {len(rows) - len(bad)}/{len(rows)} answers 200 in {wall:.1f} s")
    for fmt in FORMATS:
        mine = [r for r in rows if r["format"] == fmt and r["status"] == 200]
        if not mine:
            continue
        lat = [r["seconds"] for r in mine]
        print(f"  {FORMATS[fmt][0]:<12} n={len(mine):3d}  p50 {statistics.median(lat):6.2f} s  p95 {pct(lat, 0.95):6.2f} s"
              f"  wire {statistics.mean(r['wire'] for r in mine) / 1e6:6.2f} MB (gzip: {sum(r['gzip'] for r in mine)}/"
              f"{len(mine)})  decoded {statistics.mean(r['decoded'] for r in mine) / 1e6:6.2f} MB"
              f"  503-then-retried {sum(r['busy'] for r in mine)}")
    print(f"  server RSS: idle {idle:.0f} MB, peak {peak:.0f} MB; memory budget {limit / 2**20:.0f} MB")
    for r in bad:
        print(f"  FAILED: {r}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
