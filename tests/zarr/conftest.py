"""Zarr test helpers: which source file each collection serves, and the in-process app over real HTTP."""

from __future__ import annotations


import pytest

from tests.conftest import serve_in_thread

SOURCES = {
    "coads": "coads_sst.nc",
    "eraint": "eraint_uvz.nc",
    "mur-sst": "analysed_sst.zarr",
    "cmip5-pr": "cmip5_rcp85_pcp_pctl25.nc",
    "basin-mask": "basin_mask.nc",
    "landsat-rgb": "RGB.byte.tif",
    "cogeo": "cogeo.tif",
    "shade": "shade.tif",
}
GEOTIFFS = ("landsat-rgb", "cogeo", "shade")


@pytest.fixture(scope="session")
def app_server(app):
    """The session's in-process app behind a real uvicorn socket, so the test can read `app.state.zarr.reads`."""
    with serve_in_thread(app) as base:
        yield base
