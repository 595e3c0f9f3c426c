"""A seeded synthetic datacube shared by every benchmark: 0.25° global, hourly, ~1 GB of Zarr.

Realistic enough to exercise the server the way reanalysis data does: one float32
air temperature on (time, lat, lon), chunked time=24 × lat=180 × lon=360 (6 MB chunks,
Blosc-LZ4 compressed), CF attributes on every coordinate. Each chunk is generated from its
own seed, so the cube is identical on every machine and run, whatever the thread order.

    python benchmarks/synthetic.py                       # 10 days -> benchmarks/data/cube.zarr
    python benchmarks/synthetic.py --days 2 --output /tmp/small.zarr
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import warnings
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "data" / "cube.zarr"
RES = 0.25
CHUNKS = {"time": 24, "lat": 180, "lon": 360}
START = "2024-01-01T00:00:00"


def coordinates(days: int, res: float = RES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell-centre latitudes (ascending), longitudes (-180..180) and hourly times."""
    lat = np.round(np.arange(-90 + res / 2, 90, res), 6)
    lon = np.round(np.arange(-180 + res / 2, 180, res), 6)
    times = pd.date_range(START, periods=days * 24, freq="h").values
    return lat, lon, times


def _block(seed: int, t0: int, lat: np.ndarray, lon: np.ndarray, nt: int) -> np.ndarray:
    """One chunk: a latitude climatology + a diurnal wave travelling with the sun + seeded noise."""
    rng = np.random.default_rng([seed, t0, int((lat[0] + 90) / RES), int((lon[0] + 180) / RES)])
    hours = np.arange(t0, t0 + nt, dtype="float64")[:, None, None]
    la = np.deg2rad(lat)[None, :, None]
    lo = np.deg2rad(lon)[None, None, :]
    base = 300.0 - 45.0 * np.sin(la) ** 2
    diurnal = 6.0 * np.cos(la) * np.cos(2 * np.pi * hours / 24.0 + lo)
    weather = 3.0 * np.sin(3 * lo + hours / 40.0) * np.cos(2 * la)
    noise = rng.normal(0.0, 0.4, size=(nt, lat.size, lon.size))
    return (base + diurnal + weather + noise).astype("float32")


def build(days: int = 10, seed: int = 42) -> xr.Dataset:
    """The lazy synthetic Dataset (nothing computed until written)."""
    lat, lon, times = coordinates(days)
    ct, cy, cx = CHUNKS["time"], CHUNKS["lat"], CHUNKS["lon"]
    blocks = []
    for t0 in range(0, times.size, ct):
        nt = min(ct, times.size - t0)
        rows = []
        for y0 in range(0, lat.size, cy):
            cols = [
                da.from_delayed(dask.delayed(_block)(seed, t0, lat[y0:y0 + cy], lon[x0:x0 + cx], nt),
                                shape=(nt, min(cy, lat.size - y0), min(cx, lon.size - x0)), dtype="float32")
                for x0 in range(0, lon.size, cx)
            ]
            rows.append(cols)
        blocks.append(rows)
    data = da.block(blocks)
    ds = xr.Dataset(
        {"t2m": (("time", "lat", "lon"), data, {
            "standard_name": "air_temperature", "long_name": "2 metre temperature", "units": "K"})},
        coords={
            "time": ("time", times, {"standard_name": "time", "axis": "T", "long_name": "time"}),
            "lat": ("lat", lat, {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"}),
            "lon": ("lon", lon, {"standard_name": "longitude", "units": "degrees_east", "axis": "X"}),
        },
        attrs={"Conventions": "CF-1.8", "title": "cubeserver synthetic benchmark cube",
               "source": f"benchmarks/synthetic.py seed={seed}"},
    )
    ds["time"].encoding.update({"units": "hours since 2024-01-01 00:00:00", "calendar": "proleptic_gregorian"})
    return ds


def write(output: Path = DEFAULT_OUTPUT, days: int = 10, seed: int = 42, overwrite: bool = False) -> Path:
    """Write the cube as Zarr (v3) chunked time=24, lat=180, lon=360; returns the path."""
    output = Path(output)
    if output.exists():
        if not overwrite:
            return output
        shutil.rmtree(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    ds = build(days, seed)
    from zarr.codecs import BloscCodec

    # Blosc LZ4 + byte shuffle: zarr v2's long-time default, the common choice for analysis-ready cubes
    enc = {"t2m": {"chunks": (CHUNKS["time"], CHUNKS["lat"], CHUNKS["lon"]),
                   "compressors": [BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")]}}
    tmp = output.with_name(output.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr 3 warns that consolidated metadata is an extension
        ds.to_zarr(tmp, encoding=enc, consolidated=True, zarr_format=3)
    tmp.rename(output)  # a half-written cube is never mistaken for a complete one
    return output


def ensure(output: Path = DEFAULT_OUTPUT, days: int = 10) -> Path:
    """The cube at `output`, generated first if it is missing (what every benchmark starts with)."""
    if not Path(output).exists():
        print(f"generating {output} ...", file=sys.stderr)
        write(output, days=days)
    return Path(output)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Zarr store to write (default %(default)s)")
    ap.add_argument("--days", type=int, default=10, help="hourly days; 10 days = 240 steps ≈ 1 GB (default %(default)s)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--overwrite", action="store_true", help="replace an existing store")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    path = write(args.output, args.days, args.seed, args.overwrite)
    print(f"{path}: {_size(path) / 1e9:.2f} GB on disk, written in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
