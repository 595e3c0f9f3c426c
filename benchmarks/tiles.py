"""Map tiles: cubeserver vs xpublish-tiles vs the in-process floor, warm, on the synthetic cube.

A 256x256 WebMercatorQuad PNG tile of `t2m` at the cube's last time step, 16 tiles per zoom level 3-6
(spread over the globe within +-70° latitude). Every tile is requested once before timing (warm: the
style range, the Zarr metadata and the OS page cache are in place; the tile caches are off: cubeserver's
disk cache is not configured and no request is conditional). For each system:
- p50: median latency of one client sending the tiles one after the other (`--repeat` rounds);
- tiles/s and p50 at 8 clients: 8 threads, each with its own HTTP connection, sharing the tile list.
The floor is the same work in this process without HTTP: the window of source cells a tile covers read
with xarray, sampled nearest per pixel, coloured through a 256-colour viridis table and PNG-encoded
(Pillow, zlib level 1).

    python benchmarks/tiles.py                                   # cube: benchmarks/data/cube.zarr (generated if absent)
    python benchmarks/tiles.py --cube /tmp/cube.zarr --days 2 --repeat 3
    python benchmarks/tiles.py --venv /tmp/xpt-venv              # where xpublish-tiles lives (created if absent)
    python benchmarks/tiles.py --workers 2                       # both servers with 2 processes (one per core)

xpublish-tiles is never installed into the project's venv: its own venv (default /tmp/xpublish-tiles-venv)
is created and filled with `pip install xpublish-tiles uvicorn` on first use; it serves the same Zarr
cube through benchmarks/peers/xpublish_tiles_app.py under uvicorn (one process, like cubeserver), with the
same colour range (`colorscalerange`) and time step. `--workers N` gives both servers N processes
(`cubeserver serve --workers N`; uvicorn's `workers=N` for the peer).
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import morecantile
import numpy as np
import psutil
import requests
import xarray as xr
from pyproj import Transformer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import synthetic  # noqa: E402
from peers import versions, wait_ready  # noqa: E402
from serve import cpu_seconds, free_port, settle  # noqa: E402

ZOOMS = (3, 4, 5, 6)
CLIENTS = 8
WMQ = morecantile.tms.get("WebMercatorQuad")


def tile_list() -> list[tuple[int, int, int]]:
    """(z, row, col): a 4x4 spread per zoom, rows between about 70°N and 70°S."""
    out = []
    for z in ZOOMS:
        n = 2 ** z
        rows = np.linspace(n * 0.2, n * 0.8 - 1, 4).astype(int)
        cols = np.linspace(0, n - 1, 4).astype(int)
        out += [(z, int(r), int(c)) for r in rows for c in cols]
    return out


def xpublish_venv(venv: Path) -> Path:
    bin_dir = venv / "bin"
    if not (bin_dir / "python").exists() or subprocess.run(
            [str(bin_dir / "python"), "-c", "import xpublish_tiles, uvicorn"], capture_output=True).returncode:
        print(f"installing xpublish-tiles into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "-q", "xpublish-tiles", "uvicorn"], check=True)
    return bin_dir


class Floor:
    """The same tile computed in this process: window read, nearest sampling, LUT colouring, PNG."""

    def __init__(self, var: xr.DataArray, vmin: float, vmax: float):
        import matplotlib

        self.var = var
        self.lat = var.lat.values
        self.lon = var.lon.values
        self.res = float(self.lat[1] - self.lat[0])
        self.lut = matplotlib.colormaps["viridis"].resampled(256)(np.arange(256), bytes=True)
        self.vmin, self.vmax = vmin, vmax
        self.to_lonlat = Transformer.from_crs("EPSG:3857", "OGC:CRS84", always_xy=True)

    def __call__(self, z: int, row: int, col: int) -> bytes:
        from PIL import Image

        b = WMQ.xy_bounds(morecantile.Tile(col, row, z))
        xs = b.left + (np.arange(256) + 0.5) * (b.right - b.left) / 256
        ys = b.top - (np.arange(256) + 0.5) * (b.top - b.bottom) / 256
        lon, _ = self.to_lonlat.transform(xs, np.zeros_like(xs))  # Web Mercator: x -> lon, y -> lat separably
        _, lat = self.to_lonlat.transform(np.zeros_like(ys), ys)
        ix = np.clip(np.rint((lon - self.lon[0]) / self.res).astype(int), 0, self.lon.size - 1)
        iy = np.clip(np.rint((lat - self.lat[0]) / self.res).astype(int), 0, self.lat.size - 1)
        y0, y1, x0, x1 = iy.min(), iy.max() + 1, ix.min(), ix.max() + 1
        window = self.var.isel(lat=slice(y0, y1), lon=slice(x0, x1)).values
        values = window[np.ix_(iy - y0, ix - x0)]
        idx = np.clip(np.floor((values - self.vmin) / (self.vmax - self.vmin) * 256), 0, 255).astype(np.intp)
        rgba = self.lut[idx]
        rgba[~np.isfinite(values)] = 0
        buf = io.BytesIO()
        Image.fromarray(rgba, "RGBA").save(buf, format="PNG", compress_level=1)
        return buf.getvalue()


def start_cubeserver(cube: Path, tmp: Path, vmin: float, vmax: float, workers: int = 1):
    """`cubeserver serve` on the cube with t2m drawn in viridis over [vmin, vmax] (the peer's colour range)."""
    import os

    cfg = tmp / "tiles.yaml"
    cfg.write_text(f"state_dir: {tmp / 'state'}\ncollections:\n  cube:\n    path: {Path(cube).resolve()}\n"
                   f"    styles:\n      t2m:\n        colormap: viridis\n        range: [{vmin}, {vmax}]\n")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cubeserver.cli", "serve", "--config", str(cfg), "--port", str(port),
                             "--log-level", "warning", "--workers", str(workers)], cwd=str(HERE.parent), stdout=open(tmp / "server.log", "w"),
                            stderr=subprocess.STDOUT, env=dict(os.environ))
    wait_ready(proc, f"http://127.0.0.1:{port}/conformance", tmp / "server.log")
    settle(proc.pid)
    return proc, f"http://127.0.0.1:{port}"


def measure(fetch, tiles: list, repeat: int, pid: int | None = None) -> dict:
    """Warm, then p50 of one client and tiles/s + p50 of CLIENTS clients; with the server's `pid`, the CPU
    time per tile of the server (its process tree) and of this client process during the CLIENTS run."""
    for t in tiles:  # warm-up round
        fetch(t)
    single = []
    for _ in range(repeat):
        for t in tiles:
            start = time.perf_counter()
            fetch(t)
            single.append(time.perf_counter() - start)
    jobs = tiles * repeat
    loaded: list[float] = []
    lock = threading.Lock()

    def one(t):
        start = time.perf_counter()
        fetch(t)
        with lock:
            loaded.append(time.perf_counter() - start)

    with ThreadPoolExecutor(CLIENTS) as pool:  # warm-up of the loaded run: with --workers N the one connection of
        list(pool.map(fetch, jobs))  # the single-client run warmed one server process only; these reach them all
    loaded.clear()
    me = psutil.Process()
    server0, client0 = (cpu_seconds(pid) if pid else None), sum(me.cpu_times()[:2])
    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(one, jobs))
    wall = time.perf_counter() - start
    client = (sum(me.cpu_times()[:2]) - client0) / len(jobs) * 1000
    server = (cpu_seconds(pid) - server0) / len(jobs) * 1000 if pid else None
    return {"p50": statistics.median(single) * 1000, "p50_8": statistics.median(loaded) * 1000,
            "tps": len(jobs) / wall, "cpu": f"{server:.1f} · {client:.1f}" if pid else f"— · {client:.1f}"}


def http_fetcher(url_of) -> callable:
    local = threading.local()

    def fetch(t):
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
        r = s.get(url_of(t), timeout=300)
        if r.status_code != 200 or not r.content.startswith(b"\x89PNG"):
            raise RuntimeError(f"{url_of(t)}: {r.status_code} {r.text[:300]}")
        return r.content

    return fetch


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cube", type=Path, default=synthetic.DEFAULT_OUTPUT)
    ap.add_argument("--days", type=int, default=10, help="cube length when it has to be generated")
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds over the 64 tiles")
    ap.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "xpublish-tiles-venv")
    ap.add_argument("--skip-peer", action="store_true", help="only cubeserver and the floor")
    ap.add_argument("--workers", type=int, default=1, help="server processes of each server")
    args = ap.parse_args(argv)
    synthetic.ensure(args.cube, args.days)
    ds = xr.open_zarr(args.cube)
    var = ds["t2m"].isel(time=-1)
    when = str(ds.time.values[-1])[:19] + "Z"
    sample = var.isel(lat=slice(None, None, 8), lon=slice(None, None, 8)).values
    vmin, vmax = (float(v) for v in np.nanpercentile(sample, [2, 98]))
    tiles = tile_list()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        proc, base = start_cubeserver(args.cube, tmp, vmin, vmax, args.workers)
        try:
            url = (f"{base}/collections/cube/map/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?properties=t2m"
                   f"&datetime={when}")
            rows.append(("cubeserver", measure(http_fetcher(lambda t: url.format(z=t[0], y=t[1], x=t[2])), tiles,
                                               args.repeat, proc.pid)))
        finally:
            proc.terminate()
            proc.wait(30)
        if not args.skip_peer:
            bin_dir = xpublish_venv(args.venv)
            port = free_port()
            log = tmp / "xpublish-tiles.log"
            peer = subprocess.Popen([str(bin_dir / "python"), str(HERE / "peers" / "xpublish_tiles_app.py"),
                                     str(args.cube), str(port), str(args.workers)], stdout=open(log, "w"), stderr=subprocess.STDOUT)
            try:
                wait_ready(peer, f"http://127.0.0.1:{port}/datasets/cube/tiles/", log)
                settle(peer.pid)
                purl = (f"http://127.0.0.1:{port}/datasets/cube/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?variables=t2m"
                        f"&width=256&height=256&style=raster/viridis&colorscalerange={vmin},{vmax}"
                        f"&time={when[:-1]}&f=image/png")
                rows.append(("xpublish-tiles " + versions(str(bin_dir / "python"), ["xpublish-tiles"]).split()[-1],
                             measure(http_fetcher(lambda t: purl.format(z=t[0], y=t[1], x=t[2])), tiles, args.repeat,
                                     peer.pid)))
            finally:
                peer.terminate()
                peer.wait(30)
        floor = Floor(var, vmin, vmax)
        rows.append(("in-process floor (numpy + Pillow)", measure(lambda t: floor(*t), tiles, args.repeat)))
    print(f"\n{len(tiles)} WebMercatorQuad 256x256 PNG tiles (z {ZOOMS[0]}-{ZOOMS[-1]}) of {args.cube.name}, "
          f"warm, {args.repeat} rounds; {CLIENTS} clients for the throughput; {args.workers} server process(es)\n")
    print("| server | p50 1 client (ms) | p50 at 8 clients (ms) | tiles/s at 8 clients | CPU ms per tile: server · client |")
    print("|---|---:|---:|---:|---:|")
    for name, m in rows:
        print(f"| {name} | {m['p50']:.1f} | {m['p50_8']:.1f} | {m['tps']:.0f} | {m['cpu']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
