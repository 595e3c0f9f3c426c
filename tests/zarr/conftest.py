"""Zarr test helpers: which source file each collection serves, and the in-process app over real HTTP."""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import free_port

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
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
