"""Serve a Zarr cube as xpublish dataset `cube` with only the xpublish-tiles plugin, under uvicorn.

Run by benchmarks/tiles.py with xpublish-tiles' own venv (never the project's):

    VENV/bin/python benchmarks/peers/xpublish_tiles_app.py CUBE.zarr PORT

Tiles are then at /datasets/cube/tiles/WebMercatorQuad/{z}/{y}/{x}?variables=t2m&width=256&height=256.
"""

import sys

import uvicorn
import xarray as xr
import xpublish
from xpublish_tiles.xpublish.tiles.plugin import TilesPlugin


def main() -> None:
    cube, port = sys.argv[1], int(sys.argv[2])
    dataset = xr.open_zarr(cube)  # lazy, dask-backed, as xpublish serves it
    rest = xpublish.Rest({"cube": dataset}, plugins={"tiles": TilesPlugin()})
    uvicorn.run(rest.app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
