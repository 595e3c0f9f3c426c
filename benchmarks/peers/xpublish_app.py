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


def make_app():
    """The app over the cube named by $XPUBLISH_CUBE (uvicorn's factory, for several worker processes)."""
    import os

    dataset = xr.open_zarr(os.environ["XPUBLISH_CUBE"])  # lazy, dask-backed: what xpublish's docs serve
    return xpublish.Rest({"cube": dataset}, plugins={"edr": CfEdrPlugin()}).app


def main() -> None:
    import os
    from pathlib import Path

    cube, port = sys.argv[1], int(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    os.environ["XPUBLISH_CUBE"] = cube
    if workers == 1:
        uvicorn.run(make_app(), host="127.0.0.1", port=port, log_level="warning")
    else:
        uvicorn.run("xpublish_app:make_app", factory=True, workers=workers, app_dir=str(Path(__file__).parent),
                    host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
