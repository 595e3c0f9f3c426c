"""EDR latency of the peers pygeoapi and xpublish-edr on our synthetic cube, with the queries of edr.py.

Serves benchmarks/data/cube.zarr (generated if absent, see synthetic.py) with each peer in turn, as
its own server process on a free 127.0.0.1 port, sends it the four EDR queries of edr.py's CASES,
and prints one markdown table: median wall time, CoverageJSON body size and the server's peak RSS
(VmHWM of its whole process tree, reset before each query). Every answer must be a 200
CoverageJSON with as many values as the same xarray selection has cells; a mismatch is shown.

    .venv/bin/python benchmarks/peers.py                              # the two peers, 5 runs each
    .venv/bin/python benchmarks/peers.py --with-cubeserver --repeat 5  # cubeserver too, same conditions

The peers are never installed into the project's venv: on first use this script creates their own
venv at benchmarks/data/peers-venv (git-ignored) and pip-installs their latest releases there.
- pygeoapi: its `xarray-edr` provider; our YAML config and OpenAPI document in a temp dir, its Flask
  app under gunicorn with one sync worker (the production way its "Running" docs describe).
- xpublish-edr: benchmarks/peers/xpublish_app.py, `xpublish.Rest` + the EDR plugin under uvicorn.
- cubeserver (--with-cubeserver): `cubeserver serve`, one process, as benchmarks/serve.py starts it.
A query a peer rejects is retried in an equivalent spelling (datetime without `Z`; area <-> cube
with the same box), and the table's notes say which; if none works the cell says "unsupported".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import xarray as xr
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import synthetic  # noqa: E402
from edr import CASES, Client, reset_peak, timed  # noqa: E402
from serve import free_port, start_server  # noqa: E402

VENV = HERE / "data" / "peers-venv"
PACKAGES = ["pygeoapi", "gunicorn", "xpublish", "xpublish-edr", "uvicorn", "xarray", "zarr", "dask"]
SHOWN = PACKAGES + ["flask", "fastapi", "numpy"]
# pygeoapi's OpenAPI generator reads every one of these
WORKERS = 1  # server processes of every server (realclients.py --workers)
CONTACT_FIELDS = "position address city stateorprovince postalcode country phone fax email url hours instructions role"


def peers_venv() -> Path:
    """The peers' own venv, created and filled on first use; returns its bin/ directory."""
    bin_dir = VENV / "bin"
    if not (VENV / ".installed").exists():
        print(f"installing the peers into {VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "-q", *PACKAGES], check=True)
        (VENV / ".installed").write_text(" ".join(PACKAGES) + "\n")
    return bin_dir


def versions(python: str, names: list[str]) -> str:
    """`name version` of each distribution installed for the interpreter `python`."""
    code = ("import importlib.metadata as m, sys\n"
            "print(', '.join(f'{n} {m.version(n)}' for n in sys.argv[1:]))")
    return subprocess.run([python, "-c", code, *names], check=True, capture_output=True, text=True).stdout.strip()


def wait_ready(proc: subprocess.Popen, url: str, log: Path) -> None:
    """Poll `url` until it answers 200; the server's log tail if it exits first."""
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{url} did not answer within 120 s")


def start_pygeoapi(bin_dir: Path, cube: Path, tmp: Path) -> tuple[subprocess.Popen, str, str, str]:
    """pygeoapi (xarray-edr provider) under gunicorn; returns (process, base URL, collection path, how)."""
    port = free_port()
    config = {
        "server": {"bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
                   "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8", "languages": ["en-US"],
                   "pretty_print": False, "limits": {"default_items": 10, "max_items": 10},
                   "map": {"url": "http://127.0.0.1/{z}/{x}/{y}.png", "attribution": "none"}},
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "peers benchmark", "description": "synthetic cube", "keywords": ["benchmark"],
                               "url": "http://127.0.0.1", "terms_of_service": "none"},
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "cubeserver benchmarks", "url": "http://127.0.0.1"},
            "contact": {"name": "benchmarks", **dict.fromkeys(CONTACT_FIELDS.split(), "-")}},
        "resources": {"cube": {
            "type": "collection", "title": "synthetic", "description": "synthetic cube", "keywords": ["t2m"],
            "extents": {"spatial": {"bbox": [-180, -90, 180, 90],
                                    "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [{"type": "edr", "name": "xarray-edr", "data": str(cube.resolve()),
                           "format": {"name": "zarr", "mimetype": "application/zip"}}]}},
    }
    cfg, oas, log = tmp / "pygeoapi.yml", tmp / "openapi.yml", tmp / "pygeoapi.log"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    env = dict(os.environ, PYGEOAPI_CONFIG=str(cfg), PYGEOAPI_OPENAPI=str(oas))
    subprocess.run([str(bin_dir / "pygeoapi"), "openapi", "generate", str(cfg), "--output-file", str(oas)],
                   env=env, check=True, capture_output=True)
    proc = subprocess.Popen([str(bin_dir / "gunicorn"), "--workers", str(WORKERS), "--timeout", "600", "--no-control-socket",
                             "--log-level", "warning", "--bind", f"127.0.0.1:{port}", "pygeoapi.flask_app:APP"],
                            env=env, cwd=tmp, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    wait_ready(proc, f"http://127.0.0.1:{port}/collections/cube", log)
    how = f"Flask app under gunicorn, {WORKERS} sync worker(s) (it closes the connection after each answer)"
    return proc, f"http://127.0.0.1:{port}", "/collections/cube", how


def start_xpublish(bin_dir: Path, cube: Path, tmp: Path) -> tuple[subprocess.Popen, str, str, str]:
    """xpublish + xpublish-edr under uvicorn (benchmarks/peers/xpublish_app.py)."""
    port, log = free_port(), tmp / "xpublish.log"
    proc = subprocess.Popen([str(bin_dir / "python"), str(HERE / "peers" / "xpublish_app.py"), str(cube), str(port),
                             str(WORKERS)],
                            cwd=tmp, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    wait_ready(proc, f"http://127.0.0.1:{port}/datasets/cube/edr/", log)
    return proc, f"http://127.0.0.1:{port}", "/datasets/cube/edr", f"FastAPI app under uvicorn, {WORKERS} process(es)"


def start_cubeserver(_bin_dir: Path, cube: Path, tmp: Path) -> tuple[subprocess.Popen, str, str, str]:
    proc, base = start_server(cube, tmp, args=("--workers", str(WORKERS)) if WORKERS > 1 else ())
    return proc, base, "/collections/cube", f"`cubeserver serve`, {WORKERS} uvicorn process(es)"


def variants(qtype: str, params: dict) -> list[tuple[str, dict, str]]:
    """The query as edr.py sends it, then equivalent spellings: (query type, parameters, how it differs)."""
    nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", params.get("coords", "") + params.get("bbox", ""))]
    other = []
    if qtype == "area":
        xs, ys = nums[0::2], nums[1::2]
        bbox = f"{min(xs):g},{min(ys):g},{max(xs):g},{max(ys):g}"
        other = [("cube", {"bbox": bbox, "datetime": params["datetime"]}, f"as cube bbox={bbox}")]
    elif qtype == "cube":
        x0, y0, x1, y1 = nums
        ring = f"{x0:g} {y0:g},{x1:g} {y0:g},{x1:g} {y1:g},{x0:g} {y1:g},{x0:g} {y0:g}"
        other = [("area", {"coords": f"POLYGON(({ring}))", "datetime": params["datetime"]}, "as area polygon")]
    out = []
    for q, p, how in [(qtype, params, "")] + other:
        out.append((q, p, how))
        if "datetime" in p:
            naive = dict(p, datetime=p["datetime"].replace("Z", ""))
            out.append((q, naive, ", ".join(filter(None, [how, "datetime without Z"]))))
    return out


def coverage_values(body: bytes) -> int:
    """Number of range values in a CoverageJSON Coverage or CoverageCollection."""
    doc = json.loads(body)
    if doc.get("type") not in ("Coverage", "CoverageCollection"):
        raise ValueError(f"not CoverageJSON: type={doc.get('type')!r}")
    coverages = doc.get("coverages", [doc])
    return sum(len(r["values"]) for c in coverages for r in c["ranges"].values())


def logged_error(tmp: Path) -> str:
    """The last exception line in the servers' logs (what a bare `500 Internal Server Error` hides)."""
    time.sleep(0.3)  # the traceback may be logged just after the response was sent
    lines = [ln for log in tmp.glob("*.log") for ln in log.read_text(errors="replace").splitlines()
             if re.match(r"^[\w.]+(Error|Exception)\b", ln)]
    return f" [server log: {lines[-1][:200]}]" if lines else ""


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants (gunicorn's workers)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            pids += tree(int(child))
    return pids


def peak_mb(pid: int) -> float:
    """Peak RSS (VmHWM) summed over the process tree, MB."""
    total = 0
    for p in tree(pid):
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


def measure(name: str, starter, bin_dir: Path, cube: Path, var: xr.DataArray, repeat: int, notes: list) -> tuple:
    """Start one server, time every case; returns (cells, how it was run, idle RSS MB)."""
    cells = []
    with tempfile.TemporaryDirectory() as tmp:
        proc, base, root, how = starter(bin_dir, cube.resolve(), Path(tmp))
        try:
            idle = peak_mb(proc.pid)
            client = Client(base)
            for label, qtype, params, select in CASES:
                expected, errors, hit = select(var).size, [], None
                for pid in tree(proc.pid):
                    reset_peak(pid)
                for q, p, diff in variants(qtype, params):
                    try:
                        client.get(f"{root}/{q}", p)
                        hit = (q, p, diff)
                        break
                    except Exception as exc:  # HTTP error or timeout: try the next spelling
                        errors.append(f"{q}{' (' + diff + ')' if diff else ''}: {str(exc)[:160]}"
                                      + (logged_error(Path(tmp)) if ": 5" in str(exc) else ""))
                        client = Client(base)  # a timed-out connection is unusable
                if hit is None:
                    cells.append("unsupported")
                    notes.append(f"{name}, {label}: " + " | ".join(errors))
                    continue
                q, p, diff = hit
                if diff:
                    notes.append(f"{name}, {label}: timed {diff} (first refused: {errors[0]})")
                try:
                    median, body = timed(lambda: client.get(f"{root}/{q}", p), repeat)
                    values = coverage_values(body)
                    check = "" if values == expected else f" ⚠ {values:,} values ≠ {expected:,}"
                except Exception as exc:  # a run that fails after the probe succeeded, or not CoverageJSON
                    cells.append(f"failed: {str(exc)[:120]}")
                    client = Client(base)
                    continue
                peak = peak_mb(proc.pid)
                cells.append(f"{median * 1000:,.0f} ms · {len(body) / 1e6:.1f} MB · {peak:,.0f} MB{check}"
                             + (" *" if diff else ""))
        finally:
            proc.terminate()
            proc.wait(30)
    return cells, how, idle


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cube", type=Path, default=synthetic.DEFAULT_OUTPUT)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--days", type=int, default=10, help="cube length when it has to be generated")
    ap.add_argument("--with-cubeserver", action="store_true", help="also time our own server, first")
    args = ap.parse_args(argv)
    synthetic.ensure(args.cube, args.days)
    bin_dir = peers_venv()
    var = xr.open_zarr(args.cube)["t2m"]
    servers = ([("cubeserver", start_cubeserver)] if args.with_cubeserver else []) + \
        [("pygeoapi", start_pygeoapi), ("xpublish-edr", start_xpublish)]
    load0, columns, notes, setup = os.getloadavg()[0], {}, [], []
    for name, starter in servers:
        print(f"timing {name} ...", file=sys.stderr)
        columns[name], how, idle = measure(name, starter, bin_dir, args.cube, var, args.repeat, notes)
        setup.append(f"- {name}: {how}; {idle:.0f} MB peak RSS before the first query")
    print(f"\n{os.cpu_count()} CPUs; cube {args.cube.name} {dict(var.sizes)} chunks {tuple(c[0] for c in var.chunks)}; "
          f"median of {args.repeat} runs after one warm-up; one kept-alive http.client connection, "
          "Accept-Encoding: identity\n")
    print("Each cell: median wall time · CoverageJSON body · server peak RSS (VmHWM of its process tree, "
          "reset before each query). * = timed in another spelling, see notes.\n")
    print("| query | cells | " + " | ".join(columns) + " |")
    print("|---|---:|" + "---:|" * len(columns))
    for i, (label, _, _, select) in enumerate(CASES):
        print(f"| {label} | {select(var).size:,} | " + " | ".join(col[i] for col in columns.values()) + " |")
    print("\nservers:\n" + "\n".join(setup))
    if notes:
        print("\nnotes:\n" + "\n".join(f"- {n}" for n in notes))
    print(f"\nversions (peers venv {VENV.relative_to(HERE.parent)}): {versions(str(bin_dir / 'python'), SHOWN)}")
    if args.with_cubeserver:
        print(f"versions (cubeserver, {Path(sys.prefix).name}): "
              f"{versions(sys.executable, ['cubeserver', 'xarray', 'zarr', 'dask', 'numpy', 'uvicorn'])}")
    print(f"\nload average (1 min): {load0:.2f} at start, {os.getloadavg()[0]:.2f} when done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
