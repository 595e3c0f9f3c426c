"""Issue 15's goals in ONE run, as real clients see them: floor vs cubeserver vs pygeoapi vs xpublish-edr.

Every request is sent by httpx (a real client) with the headers browsers and Python clients send:
`Accept-Encoding: gzip, deflate, br, zstd` and httpx's `Accept: */*` (`--accept chromium` sends
Chromium's navigation Accept instead). Times are to the last byte, decoded as the client decodes
it (medians of `--repeat` runs after one warm-up, one kept-alive connection); "bytes" is what
crossed the wire (httpx's `num_bytes_downloaded`, compressed). The floor is the same selection in
this process with xarray (`.values`, no HTTP, no encoding); the client floor is httpx receiving and
decoding cubeserver's own answers (the same bytes, compressed as they were) from benchmarks/canned.py, a
server that computes nothing: no server can answer faster than that. Rows are the goals of issue 15:

    | point, all steps | point, 1 day | 20°×20°×1 day CoverageJSON | NetCDF 20°×20°×1 day |
    | NetCDF 60°×60°×3 days | req/s at 8 clients, point 1 day |

    .venv/bin/python benchmarks/realclients.py                      # cube: benchmarks/data/cube.zarr (14 days)
    .venv/bin/python benchmarks/realclients.py --skip-peers         # floor and cubeserver only
    .venv/bin/python benchmarks/realclients.py --workers 2          # every server with 2 processes
    .venv/bin/python benchmarks/realclients.py --cube /tmp/cube.zarr --days 14 --repeat 9

Peers run from their own venv (benchmarks/peers.py installs pygeoapi and xpublish-edr there on first
use) with the same start-up as peers.py; a query a peer answers in no spelling is "unsupported", and
every answer is checked (CoverageJSON: as many values as the xarray selection; NetCDF: an HDF5/NetCDF
file that xarray opens with that many values of t2m). Run it on a quiet machine: latencies are wall time.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import xarray as xr

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import synthetic  # noqa: E402
from serve import cpu_seconds, settle  # noqa: E402
from peers import VENV, peers_venv, start_cubeserver, start_pygeoapi, start_xpublish, versions  # noqa: E402

DAY = "2024-01-03T00:00:00Z/2024-01-03T23:00:00Z"
DAYS3 = "2024-01-03T00:00:00Z/2024-01-05T23:00:00Z"
POINT = "POINT(10.1 45.1)"
ACCEPT = {
    "httpx": "*/*",
    "chromium": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
                "application/signed-exchange;v=b3;q=0.7",
}
ENCODINGS = "gzip, deflate, br, zstd"
CLIENTS = 8

# label, EDR query, parameters, kind (covjson | netcdf), the same cells with xarray
ROWS = [
    ("point, all steps", "position", {"coords": POINT}, "covjson",
     lambda v: v.sel(lat=45.1, lon=10.1, method="nearest")),
    ("point, 1 day", "position", {"coords": POINT, "datetime": DAY}, "covjson",
     lambda v: v.sel(lat=45.1, lon=10.1, method="nearest").sel(time=slice("2024-01-03T00", "2024-01-03T23"))),
    ("20°×20°×1 day CoverageJSON", "cube", {"bbox": "0,0,20,20", "datetime": DAY}, "covjson",
     lambda v: v.sel(lat=slice(0, 20), lon=slice(0, 20), time=slice("2024-01-03T00", "2024-01-03T23"))),
    ("NetCDF 20°×20°×1 day", "cube", {"bbox": "0,0,20,20", "datetime": DAY}, "netcdf",
     lambda v: v.sel(lat=slice(0, 20), lon=slice(0, 20), time=slice("2024-01-03T00", "2024-01-03T23"))),
    ("NetCDF 60°×60°×3 days", "cube", {"bbox": "-30,0,30,60", "datetime": DAYS3}, "netcdf",
     lambda v: v.sel(lat=slice(0, 60), lon=slice(-30, 30), time=slice("2024-01-03T00", "2024-01-05T23"))),
]
THROUGHPUT_ROW = 1  # req/s at CLIENTS clients for this row (point, 1 day)

# the `f` spellings each server knows for each kind, tried in turn (None: no f parameter)
FORMATS = {
    "cubeserver": {"covjson": ["CoverageJSON"], "netcdf": ["NetCDF"]},
    "pygeoapi": {"covjson": ["json", None], "netcdf": ["netcdf", "NetCDF"]},
    "xpublish-edr": {"covjson": ["cf_covjson", None], "netcdf": ["nc", "netcdf", "NetCDF"]},
}


def client(accept: str) -> httpx.Client:
    return httpx.Client(timeout=300, headers={"Accept": ACCEPT[accept], "Accept-Encoding": ENCODINGS})


def count_values(body: bytes, kind: str) -> int:
    """Values of t2m in an answer (CoverageJSON ranges, or the NetCDF file's t2m variable)."""
    if kind == "covjson":
        doc = json.loads(body)
        if doc.get("type") not in ("Coverage", "CoverageCollection"):
            raise ValueError(f"not CoverageJSON: type={doc.get('type')!r}")
        return sum(len(r["values"]) for c in doc.get("coverages", [doc]) for r in c["ranges"].values())
    if not (body.startswith(b"\x89HDF") or body.startswith(b"CDF")):
        raise ValueError(f"not NetCDF: {body[:40]!r}")
    with xr.open_dataset(io.BytesIO(body)) as ds:
        name = "t2m" if "t2m" in ds else next(iter(ds.data_vars))
        return int(ds[name].size)


def _size(n: int) -> str:
    return f"{n / 1e6:,.2f} MB" if n >= 1e6 else f"{n / 1e3:,.1f} kB"


def get(c: httpx.Client, url: str, params: dict) -> httpx.Response:
    r = c.get(url, params=params)
    if r.status_code != 200:
        raise RuntimeError(f"{r.status_code} {r.text[:200]}")
    return r


def timed(c: httpx.Client, url: str, params: dict, repeat: int) -> tuple[float, httpx.Response]:
    get(c, url, params)  # warm-up
    times, r = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = get(c, url, params)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), r


def throughput(url: str, params: dict, accept: str, seconds: float) -> tuple[float, int]:
    """Requests per second completed by CLIENTS threads, each with its own connection, for `seconds`
    (and how many were completed, warm-up requests included, for CPU per request)."""
    done = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker():
        with client(accept) as c:
            get(c, url, params)
            n = 0
            while time.perf_counter() < stop:
                get(c, url, params)
                n += 1
            with lock:
                done[0] += n

    t0 = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        for f in [pool.submit(worker) for _ in range(CLIENTS)]:
            f.result()
    return done[0] / (time.perf_counter() - t0), done[0] + CLIENTS


def keep_answer(c: httpx.Client, url: str, params: dict, folder: Path, i: int) -> None:
    """The answer's bytes as they crossed the wire (still compressed) and its content headers, for canned.py."""
    with c.stream("GET", url, params=params) as r:
        raw = b"".join(r.iter_raw())
        headers = {k: r.headers[k] for k in ("content-type", "content-encoding") if k in r.headers}
    (folder / f"row{i}.body").write_bytes(raw)
    (folder / f"row{i}.json").write_text(json.dumps({"headers": headers}))


def measure(name: str, starter, bin_dir: Path, cube: Path, var: xr.DataArray, args, notes: list,
            keep: Path | None = None) -> list[str]:
    """Start one server and fill its column: one cell per row, then the req/s cell. With `keep`, each row's
    answer is also saved there as it crossed the wire (`keep_answer`)."""
    cells = []
    with tempfile.TemporaryDirectory() as tmp:
        proc, base, root, how = starter(bin_dir, cube.resolve(), Path(tmp))
        settle(proc.pid)  # start-up work done before the first timed request, for every server
        notes.append(f"{name}: {how}")
        try:
            with client(args.accept) as c:
                for label, qtype, params, kind, select in ROWS:
                    expected = select(var).size
                    cell, errors = None, []
                    for f in FORMATS[name][kind]:
                        p = dict(params, **({"f": f} if f else {}))
                        try:
                            median, r = timed(c, f"{base}{root}/{qtype}", p, args.repeat)
                            got = count_values(r.content, kind)
                        except Exception as exc:  # noqa: BLE001 - refused spelling: try the next
                            errors.append(f"f={f}: {str(exc)[:120]}")
                            continue
                        check = "" if got == expected else f" ⚠ {got:,} values ≠ {expected:,}"
                        coding = r.headers.get("content-encoding", "identity")
                        cell = (f"{median * 1000:,.1f} ms · {_size(r.num_bytes_downloaded)} {coding}{check}", p)
                        if keep is not None:
                            keep_answer(c, f"{base}{root}/{qtype}", p, keep, ROWS.index((label, qtype, params, kind,
                                                                                         select)))
                        break
                    if cell is None:
                        cells.append("unsupported")
                        notes.append(f"{name}, {label}: " + " | ".join(errors))
                    else:
                        cells.append(cell[0])
                        if label == ROWS[THROUGHPUT_ROW][0]:
                            tp_params = cell[1]
            row = ROWS[THROUGHPUT_ROW]
            if cells[THROUGHPUT_ROW] == "unsupported":
                cells.append("unsupported")
            else:
                cpu0, client0 = cpu_seconds(proc.pid), time.process_time()
                rate, n = throughput(f'{base}{root}/{row[1]}', tp_params, args.accept, args.seconds)
                server_ms = (cpu_seconds(proc.pid) - cpu0) / max(n, 1) * 1000
                client_ms = (time.process_time() - client0) / max(n, 1) * 1000
                cells.append(f"{rate:,.0f} req/s · CPU/req: server {server_ms:.1f} ms, client {client_ms:.1f} ms")
        finally:
            proc.terminate()
            proc.wait(30)
    return cells


def client_floor_column(folder: Path, var: xr.DataArray, args) -> list[str]:
    """httpx receiving and decoding cubeserver's own answers (same bytes, same content coding) from
    benchmarks/canned.py, which computes nothing: what the client itself costs per row."""
    import subprocess

    port = free_port()
    proc = subprocess.Popen([sys.executable, str(HERE / "canned.py"), str(folder), str(port)], stdout=subprocess.PIPE)
    try:
        proc.stdout.readline()  # "ready"
        out = []
        with client(args.accept) as c:
            for i, (_, _, _, kind, select) in enumerate(ROWS):
                if not (folder / f"row{i}.body").exists():
                    out.append("—")
                    continue
                median, r = timed(c, f"http://127.0.0.1:{port}/row{i}", {}, args.repeat)
                check = "" if count_values(r.content, kind) == select(var).size else " ⚠ values differ"
                out.append(f"{median * 1000:,.1f} ms{check}")
        return out + ["—"]
    finally:
        proc.terminate()
        proc.wait(30)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def floor_column(var: xr.DataArray, repeat: int) -> list[str]:
    out = []
    for _, _, _, _, select in ROWS:
        select(var).values  # warm-up
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            select(var).values
            times.append(time.perf_counter() - t0)
        out.append(f"{statistics.median(times) * 1000:,.1f} ms")
    out.append("—")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cube", type=Path, default=synthetic.DEFAULT_OUTPUT)
    ap.add_argument("--days", type=int, default=14, help="cube length when it has to be generated")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of the req/s measurement")
    ap.add_argument("--accept", choices=sorted(ACCEPT), default="httpx", help="Accept header profile")
    ap.add_argument("--skip-peers", action="store_true", help="only the floor and cubeserver")
    ap.add_argument("--workers", type=int, default=1, help="server processes of every server (one per core: 2)")
    args = ap.parse_args(argv)
    import peers

    peers.WORKERS = args.workers
    synthetic.ensure(args.cube, args.days)
    var = xr.open_zarr(args.cube)["t2m"]
    load0 = os.getloadavg()[0]
    servers = [("cubeserver", start_cubeserver)]
    if not args.skip_peers:
        servers += [("pygeoapi", start_pygeoapi), ("xpublish-edr", start_xpublish)]
    bin_dir = peers_venv() if not args.skip_peers else Path(sys.prefix) / "bin"
    columns, notes = {"floor (xarray, in-process)": floor_column(var, args.repeat)}, []
    with tempfile.TemporaryDirectory() as kept:
        for name, starter in servers:
            print(f"timing {name} ...", file=sys.stderr)
            columns[name] = measure(name, starter, bin_dir, args.cube, var, args, notes,
                                    keep=Path(kept) if name == "cubeserver" else None)
        print("timing the client floor ...", file=sys.stderr)
        columns["client floor (httpx, canned answers)"] = client_floor_column(Path(kept), var, args)
    labels = [r[0] for r in ROWS] + [f"req/s at {CLIENTS} clients, {ROWS[THROUGHPUT_ROW][0]}"]
    print(f"\n{os.cpu_count()} CPUs; cube {args.cube.name} {dict(var.sizes)} chunks "
          f"{tuple(c[0] for c in var.chunks)}; httpx {httpx.__version__}, Accept-Encoding: {ENCODINGS}, "
          f"Accept: {args.accept}; medians of {args.repeat} runs after a warm-up, to the last byte, decoded\n")
    print("Each server cell: median time · bytes on the wire · content coding. Floor: the same cells with xarray. "
          "Client floor: httpx getting cubeserver's answers (same bytes and coding) from a server that computes "
          "nothing (benchmarks/canned.py).\n")
    print("| query | cells | " + " | ".join(columns) + " |")
    print("|---|---:|" + "---:|" * len(columns))
    for i, label in enumerate(labels):
        cells = f"{ROWS[i][4](var).size:,}" if i < len(ROWS) else ""
        print(f"| {label} | {cells} | " + " | ".join(col[i] for col in columns.values()) + " |")
    print("\nnotes:\n" + "\n".join(f"- {n}" for n in notes))
    if not args.skip_peers:
        print(f"\nversions (peers venv {VENV.relative_to(HERE.parent)}): "
              f"{versions(str(bin_dir / 'python'), ['pygeoapi', 'xpublish', 'xpublish-edr', 'xarray'])}")
    print(f"versions (cubeserver): {versions(sys.executable, ['cubeserver', 'xarray', 'zarr', 'httpx'])}")
    print(f"\nload average (1 min): {load0:.2f} at start, {os.getloadavg()[0]:.2f} when done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
