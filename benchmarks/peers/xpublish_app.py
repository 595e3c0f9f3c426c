"""Serve a Zarr cube as xpublish dataset `cube` with only the xpublish-edr plugin, under uvicorn.

Run by benchmarks/peers.py with the peers' own venv (benchmarks/data/peers-venv):

    peers-venv/bin/python benchmarks/peers/xpublish_app.py CUBE.zarr PORT

EDR queries are then at /datasets/cube/edr/{position,area,cube}.
"""

import sys

import uvicorn
import xarray as xr
import xpublish
from xpublish_edr import CfEdrPlugin


def main() -> None:
    cube, port = sys.argv[1], int(sys.argv[2])
    dataset = xr.open_zarr(cube)  # lazy, dask-backed: what xpublish's docs serve
    rest = xpublish.Rest({"cube": dataset}, plugins={"edr": CfEdrPlugin()})
    uvicorn.run(rest.app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
