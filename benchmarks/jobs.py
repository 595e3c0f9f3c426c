"""Async job submission throughput: submits/s and latency at N concurrent clients, SQLite vs PostgreSQL.

Starts a real `cubeserver serve` process per store (SQLite in a temp state dir; a fresh
PostgreSQL cluster from tests/pg.py with its default durability settings), then N
concurrent httpx AsyncClients (httpx's default headers) each POST
`/processes/echo/execution` with `Prefer: respond-async` in a loop for a fixed time.
Every answer must be a 201 with a Location; the server runs each job meanwhile (the
load includes running them). Reports submits/s, p50/p99 latency, and jobs still
unfinished at the end. Run by hand:

    python benchmarks/jobs.py                      # 32 clients, 15 s per store, both stores
    python benchmarks/jobs.py --clients 8 --seconds 5 --stores sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serve import cpu_seconds, launch  # noqa: E402

BODY = {"inputs": {"message": "hello"}}


def start(workdir: Path, store: str | None, workers: int) -> tuple[subprocess.Popen, str]:
    cfg = workdir / "bench.yaml"
    from cubeserver.config import LimitsConfig

    # no 429s/503s from the per-identity rate and job-count limits: every client here is one anonymous identity
    fields = LimitsConfig.model_fields
    unlimited = "limits:\n" + "".join(line for key, line in (
        ("execute_rate", "  execute_rate: null\n"), ("max_jobs_per_identity", "  max_jobs_per_identity: 1000000\n"),
        ("max_jobs", "  max_jobs: 1000000\n")) if key in fields)
    cfg.write_text(f"state_dir: {workdir / 'state'}\n{unlimited}"
                   f"collections:\n  coads:\n    path: {ROOT / 'datasets/coads_sst.nc'}\n")
    return launch(cfg, workdir, env={"CUBESERVER_JOBS_STORE": store} if store else None, args=("--workers", str(workers)))


async def load(base: str, clients: int, seconds: float, probe: bool = False) -> tuple[list[float], int]:
    """Latencies (s) of every 201 within `seconds`, and the number of other answers.

    `probe`: GET /conformance instead (the HTTP stack's floor, no job store involved).
    """
    latencies: list[float] = []
    bad = 0
    stop = time.perf_counter() + seconds

    async def client():
        nonlocal bad
        async with httpx.AsyncClient(base_url=base, timeout=60) as c:
            while time.perf_counter() < stop:
                t = time.perf_counter()
                if probe:
                    r = await c.get("/conformance")
                else:
                    r = await c.post("/processes/echo/execution", json=BODY, headers={"Prefer": "respond-async"})
                if (r.status_code == 200) if probe else (r.status_code == 201 and r.headers.get("location")):
                    latencies.append(time.perf_counter() - t)
                else:
                    bad += 1
                    STATUSES[str(r.status_code)] += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, bad


async def load_raw(base: str, clients: int, seconds: float, probe: bool = False) -> tuple[list[float], int]:
    """The same load from a minimal HTTP/1.1 keep-alive client (pre-encoded request, asyncio streams).

    httpx costs ~3 ms of CPU per request here, as much as the server: this measures what
    the server itself sustains when the client is cheap.
    """
    host, port = base.removeprefix("http://").split(":")
    if probe:
        request = f"GET /conformance HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    else:
        body = json.dumps(BODY).encode()
        request = (f"POST /processes/echo/execution HTTP/1.1\r\nHost: {host}:{port}\r\nPrefer: respond-async\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    want = b"200" if probe else b"201"
    latencies: list[float] = []
    bad = 0
    stop = time.perf_counter() + seconds

    async def client():
        nonlocal bad
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < stop:
                t = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                await reader.readexactly(length)
                if head[9:12] == want:
                    latencies.append(time.perf_counter() - t)
                else:
                    bad += 1
                    STATUSES[head[9:12].decode()] += 1
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, bad


def run(name: str, store: str | None, args, probe: bool = False, raw: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="cubeserver-bench-") as tmp:
        proc, base = start(Path(tmp), store, args.workers)
        try:
            go = load_raw if raw else load
            asyncio.run(go(base, args.clients, 2, probe))  # warm-up: connections, prepared statements, pools
            me = psutil.Process()
            cpu0, mine0, t0 = cpu_seconds(proc.pid), sum(me.cpu_times()[:2]), time.perf_counter()
            STATUSES.clear()  # the warm-up's do not count
            lat, bad = asyncio.run(go(base, args.clients, args.seconds, probe))
            elapsed = time.perf_counter() - t0
            cpu, mine = cpu_seconds(proc.pid) - cpu0, sum(me.cpu_times()[:2]) - mine0
            time.sleep(1)
            pending = requests.get(f"{base}/jobs", params={"status": ["accepted", "running"], "limit": 1}).json()
        finally:
            proc.terminate()
            proc.wait(30)
    lat.sort()
    return {"store": name, "client": "raw" if raw else "httpx", "submits": len(lat), "errors": bad, "per_s": len(lat) / elapsed,
            "p50_ms": 1000 * statistics.median(lat), "p99_ms": 1000 * lat[int(0.99 * (len(lat) - 1))],
            "unfinished": pending["numberMatched"], "server_cpu_ms": 1000 * cpu / max(len(lat), 1),
            "client_cpu_ms": 1000 * mine / max(len(lat), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--stores", default="sqlite,postgresql")
    ap.add_argument("--floor", action="store_true", help="also GET /conformance: the HTTP stack without jobs")
    ap.add_argument("--client", default="httpx,raw",
                    help="httpx (httpx.AsyncClient, default headers), raw (minimal keep-alive client) or both")
    args = ap.parse_args()
    rows = []
    kinds = args.client.split(",")
    if args.floor:
        for kind in kinds:
            report(run("GET /conformance", None, args, probe=True, raw=kind == "raw"), args, "requests")
    for name in args.stores.split(","):
        if name == "sqlite":
            for kind in kinds:
                rows.append(report(run("sqlite", None, args, raw=kind == "raw"), args))
            continue
        from tests import pg

        why = pg.missing()
        if why:
            print(f"postgresql: skipped ({why})")
            continue
        with pg.PostgresServer(durable=True) as server:
            for kind in kinds:
                db = server.new_database(f"bench_{kind}")
                rows.append(report(run("postgresql", db, args, raw=kind == "raw"), args))


STATUSES: Counter = Counter()  # HTTP status of every answer that was not the expected one, for the report


def report(r: dict, args, what: str = "submits") -> dict:
    print(f"{r['store']:<16} {r['client']:<5} {args.clients} clients, {args.workers} worker(s): {r['per_s']:6.0f} {what}/s  "
          f"p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  ({r['submits']} ok, {r['errors']} errors, "
          f"{r['unfinished']} jobs unfinished 1 s after); CPU per request: server {r['server_cpu_ms']:.2f} ms, "
          f"client {r['client_cpu_ms']:.2f} ms; error statuses {dict(STATUSES) or 'none'}", flush=True)
    STATUSES.clear()
    return r

if __name__ == "__main__":
    main()
