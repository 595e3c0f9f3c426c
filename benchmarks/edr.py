"""EDR latency over HTTP versus the same selection done in-process with xarray (the floor).

Generates the synthetic cube (benchmarks/synthetic.py) if absent, serves it with the
real CLI on a free port, and for each query reports the median wall time of the HTTP
request (body fully received), the median of the equivalent `xarray ... .values`
in this process, their ratio, the answer size, and the server's memory growth.

    python benchmarks/edr.py                    # defaults: 7 runs each, benchmarks/data/cube.zarr
    python benchmarks/edr.py --repeat 15 --cube /tmp/cube.zarr
    python benchmarks/edr.py --workers 2 --clients 8     # + point 1-day queries/s at 8 concurrent clients

The client is the standard library's http.client on one kept-alive connection, reading each
body whole: moving 40 MB through `requests` costs the client 2-3× more CPU than the server
spends sending it, and on 2 shared cores that would be measured as server latency. Requests
send the headers httpx and browsers send (`Accept-Encoding: gzip, deflate, br, zstd`; `--identity` for
none), so the figures include the compression real clients get; the table gives the bytes on the wire.
`--clients N` adds a throughput run: N concurrent keep-alive clients (asyncio, pre-encoded requests,
cheap enough not to starve the server of CPU) asking point 1-day series at random cells.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import random
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
from serve import cpu_seconds, start_server  # noqa: E402

# Each case: label, query path, parameters, and the same cells selected directly with xarray.
DAY = "2024-01-03T00:00:00Z/2024-01-03T23:00:00Z"
DAYS3 = "2024-01-03T00:00:00Z/2024-01-05T23:00:00Z"
CASES = [
    ("point time series (all steps)", "position", {"coords": "POINT(10.1 45.1)"},
     lambda v: v.sel(lat=45.1, lon=10.1, method="nearest")),
    ("point time series (1 day)", "position", {"coords": "POINT(10.1 45.1)", "datetime": DAY},
     lambda v: v.sel(lat=45.1, lon=10.1, method="nearest").sel(time=slice("2024-01-03T00", "2024-01-03T23"))),
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


def server_pid(pid: int) -> int:
    """The process whose memory is reported: with `--workers N` the largest worker (memory figures are then
    one worker's), the server itself otherwise."""
    import psutil

    kids = [k for k in psutil.Process(pid).children() if k.memory_info().rss > 50e6]  # not the resource tracker
    return max(kids, key=lambda k: k.memory_info().rss).pid if kids else pid


def decoded_size(body: bytes, encoding: str | None) -> int:
    """Size of `body` once the Content-Encoding is undone (what the client's parser sees)."""
    if not encoding or encoding == "identity":
        return len(body)
    import gzip
    import zlib

    if encoding == "gzip":
        return len(gzip.decompress(body))
    if encoding == "deflate":
        return len(zlib.decompress(body))
    if encoding == "br":
        import brotli
        return len(brotli.decompress(body))
    if encoding == "zstd":
        import zstandard
        return len(zstandard.ZstdDecompressor().decompressobj().decompress(body))
    raise ValueError(encoding)


def reset_peak(pid: int) -> None:
    """Reset the kernel's peak-RSS counter (VmHWM) so each query's peak is its own."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


REAL_CLIENT = {"Accept-Encoding": "gzip, deflate, br, zstd", "Accept": "*/*", "User-Agent": "python-httpx/0.28.1"}
HEADERS = dict(REAL_CLIENT)


class Client:
    """GET over one kept-alive http.client connection; the body read whole (chunked decoding included).
    `wire` is the size of the last body as sent (compressed when the server compressed it)."""

    def __init__(self, base: str):
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)
        self.wire = 0

    def get(self, path: str, params: dict) -> bytes:
        from urllib.parse import urlencode

        try:
            self.conn.request("GET", f"{path}?{urlencode(params)}", headers=HEADERS)
            r = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):  # the server's keep-alive timeout passed
            self.conn.close()
            self.conn.request("GET", f"{path}?{urlencode(params)}", headers=HEADERS)
            r = self.conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"{path}: {r.status} {body[:300]!r}")
        self.wire = len(body)
        self.encoding = r.getheader("Content-Encoding")
        return body


def ensure_copy(cube: Path, tmp: Path) -> str:
    """The collection YAML naming the cube's time-series copy (benchmarks/data/state/timeseries/edr-cube.zarr),
    built with the CLI when missing or out of date."""
    import subprocess

    path = HERE / "data" / "state" / "timeseries" / "edr-cube.zarr"
    line = f"    timeseries: {{path: {path}}}\n"
    cfg = tmp / "copy.yaml"
    cfg.write_text(f"state_dir: {tmp / 'state'}\ncollections:\n  cube:\n    path: {Path(cube).resolve()}\n{line}")
    status = subprocess.run([sys.executable, "-m", "cubeserver.cli", "check-config", str(cfg)], cwd=str(ROOT),
                            capture_output=True, text=True).stdout
    if '"in sync"' not in status:
        print("building the time-series copy ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "cubeserver.cli", "build-timeseries", "--config", str(cfg), "cube"],
                       cwd=str(ROOT), check=True, stdout=subprocess.DEVNULL)
    return line


async def throughput(base: str, clients: int, seconds: float, days: int,
                     random_cells: bool = False) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of point 1-day series (random days; random cells when asked) from
    `clients` keep-alive clients."""
    from urllib.parse import urlencode

    host, port = base.removeprefix("http://").split(":")
    extra = "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
    rng = random.Random(1)
    lat: list[float] = []
    stop = time.perf_counter() + seconds

    def request() -> bytes:
        day = rng.randrange(max(days - 1, 1))
        where = f"{rng.uniform(-179, 179):.3f} {rng.uniform(-89, 89):.3f}" if random_cells else "10.1 45.1"
        q = urlencode({"coords": f"POINT({where})",
                       "datetime": f"2024-01-{day + 1:02d}T00:00:00Z/2024-01-{day + 1:02d}T23:00:00Z"})
        return f"GET /collections/cube/position?{q} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode()

    async def client():
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < stop:
                t = time.perf_counter()
                writer.write(request())
                head = await reader.readuntil(b"\r\n\r\n")
                fields = {k.strip().lower(): v.strip() for k, _, v in
                          (line.decode().partition(":") for line in head.split(b"\r\n")[1:] if line)}
                if "content-length" in fields:
                    await reader.readexactly(int(fields["content-length"]))
                else:  # chunked
                    while True:
                        size = int((await reader.readline()).strip(), 16)
                        await reader.readexactly(size + 2)
                        if size == 0:
                            break
                if head[9:12] != b"200":
                    raise RuntimeError(head[:200])
                lat.append(time.perf_counter() - t)
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - t0
    lat.sort()
    return len(lat) / elapsed, 1000 * statistics.median(lat), 1000 * lat[int(0.99 * (len(lat) - 1))]


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
    ap.add_argument("--workers", type=int, default=1, help="server processes (`cubeserver serve --workers N`)")
    ap.add_argument("--identity", action="store_true", help="send Accept-Encoding: identity (no compression)")
    ap.add_argument("--timeseries", action="store_true",
                    help="serve the cube with its time-series copy (built first when missing: cubeserver build-timeseries)")
    ap.add_argument("--random-cells", action="store_true", help="throughput run: a random cell per request "
                    "(default: the latency cases' cell, as a dashboard polling one place)")
    ap.add_argument("--clients", type=int, default=0, help="also measure point 1-day queries/s at N clients")
    ap.add_argument("--seconds", type=float, default=10, help="length of the throughput run")
    args = ap.parse_args(argv)
    if args.identity:
        HEADERS.clear()
        HEADERS["Accept-Encoding"] = "identity"
    synthetic.ensure(args.cube, args.days)
    var = xr.open_zarr(args.cube)["t2m"]
    with tempfile.TemporaryDirectory() as tmp:
        copy = ""
        if args.timeseries:
            copy = ensure_copy(args.cube, Path(tmp))
        proc, base = start_server(args.cube, Path(tmp), args=("--workers", str(args.workers)), collection_yaml=copy)
        try:
            mem_pid = server_pid(proc.pid)
            rss_start, _ = rss_mb(mem_pid)
            client = Client(base)
            for _, qtype, params, _ in CASES:  # warm-up: imports, thread pools, codec buffers, page cache
                client.get(f"/collections/cube/{qtype}", params)
            rss0, _ = rss_mb(mem_pid)
            rows = []
            for label, qtype, params, select in CASES:
                path = f"/collections/cube/{qtype}"

                def fetch():
                    return client.get(path, params)

                before, _ = rss_mb(mem_pid)
                reset_peak(mem_pid)
                cpu0 = cpu_seconds(proc.pid)
                server, body = timed(fetch, args.repeat)
                wire, size = client.wire, decoded_size(body, client.encoding)
                cpu = (cpu_seconds(proc.pid) - cpu0) / (args.repeat + 1)
                _, peak = rss_mb(mem_pid)
                floor, arr = timed(lambda: select(var).values, args.repeat)
                rows.append((label, arr.size, size / 1e6, wire / 1e6, server, floor, cpu, peak - before))
            rss1, _ = rss_mb(mem_pid)
            time.sleep(2.5)  # the server returns freed memory (malloc_trim) after a request, at most every 2 s
            client.get("/collections/cube/position", {"coords": "POINT(0 0)", "datetime": DAY})
            time.sleep(0.3)
            rss2, _ = rss_mb(mem_pid)
            rate = None
            if args.clients:
                asyncio.run(throughput(base, args.clients, 2, var.sizes["time"] // 24, args.random_cells))  # warm-up
                rate = asyncio.run(throughput(base, args.clients, args.seconds, var.sizes["time"] // 24,
                                              args.random_cells))
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"\n{os.cpu_count()} CPUs, {args.repeat} runs each (medians); cube {args.cube.name} "
          f"{dict(var.sizes)} chunks {tuple(c[0] for c in var.chunks)}\n")
    print(f"client headers: {HEADERS}; server: --workers {args.workers}"
          f"{', with the time-series copy' if args.timeseries else ''}\n")
    print("| query | cells | CovJSON MB | MB on the wire | server (HTTP) | xarray floor | ratio | "
          "server CPU/request | server peak RSS growth |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, cells, mb, wire, server, floor, cpu, grow in rows:
        print(f"| {label} | {cells:,} | {mb:.1f} | {wire:.2f} | {server * 1000:.1f} ms | {floor * 1000:.1f} ms | "
              f"{server / floor:.2f}× | {cpu * 1000:.0f} ms | {grow:.0f} MB |")
    if rate:
        print(f"\npoint 1-day series ({'random cells' if args.random_cells else 'one cell'}, random days), {args.clients} concurrent keep-alive clients, "
              f"{args.seconds:g} s: {rate[0]:.0f} req/s, p50 {rate[1]:.1f} ms, p99 {rate[2]:.1f} ms")
    print(f"\nload average when done: {os.getloadavg()[0]:.2f} (other processes share the {os.cpu_count()} CPUs)")
    print(f"\nserver RSS: {rss_start:.0f} MB at start, {rss0:.0f} MB after one warm-up request per query, "
          f"{rss1:.0f} MB right after all runs, {rss2:.0f} MB once settled (next request after 2.5 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
