"""Serve a Zarr cube as xpublish dataset `cube` with only the xpublish-tiles plugin, under uvicorn.

Run by benchmarks/tiles.py with xpublish-tiles' own venv (never the project's):

    VENV/bin/python benchmarks/peers/xpublish_tiles_app.py CUBE.zarr PORT [WORKERS]

Tiles are then at /datasets/cube/tiles/WebMercatorQuad/{z}/{y}/{x}?variables=t2m&width=256&height=256.
"""

import os
import sys

import uvicorn
import xarray as xr
import xpublish
from xpublish_tiles.xpublish.tiles.plugin import TilesPlugin


def app():
    """The xpublish app on the cube named by CUBESERVER_BENCH_CUBE (a factory: uvicorn's workers import it)."""
    dataset = xr.open_zarr(os.environ["CUBESERVER_BENCH_CUBE"])  # lazy, dask-backed, as xpublish serves it
    return xpublish.Rest({"cube": dataset}, plugins={"tiles": TilesPlugin()}).app


def main() -> None:
    cube, port = sys.argv[1], int(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    os.environ["CUBESERVER_BENCH_CUBE"] = cube
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    uvicorn.run("xpublish_tiles_app:app", factory=True, host="127.0.0.1", port=port, log_level="warning",
                workers=workers)


if __name__ == "__main__":
    main()
