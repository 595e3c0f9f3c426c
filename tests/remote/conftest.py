"""A real S3-compatible server (moto's server mode) on 127.0.0.1 holding copies of the bundled data, and
apps on configs that read them remotely beside the same files read locally."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import pytest
import xarray as xr

from tests.conftest import DATASETS, free_port

pytest.importorskip("moto.server")
pytest.importorskip("s3fs")

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every S3 request
BUCKET = "cubes"
SECRET = "s3cr3t-do-not-log-42"  # a secret that must never appear in a log line or an answer
FILES = ["analysed_sst.zarr", "eraint_uvz.nc", "coads_sst.nc", "cogeo.tif"]


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """(endpoint URL, storage_options, s3fs filesystem) of a moto S3 server with the bundled files in s3://cubes/."""
    from moto.server import ThreadedMotoServer
    import s3fs

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    options = {"key": "testing", "secret": SECRET, "endpoint_url": endpoint}
    fs = s3fs.S3FileSystem(**options)
    fs.mkdir(BUCKET)
    for name in FILES:
        fs.put(str(DATASETS / name), f"{BUCKET}/{name}", recursive=(DATASETS / name).is_dir())
    v3 = tmp_path_factory.mktemp("v3") / "sst_v3.zarr"  # the bundled store is Zarr v2: a v3 copy of it too
    with xr.open_zarr(DATASETS / "analysed_sst.zarr") as ds:
        for v in ds.variables.values():  # the v2 codecs do not carry over to v3
            v.encoding = {k: x for k, x in v.encoding.items() if k in ("dtype", "_FillValue", "scale_factor",
                                                                      "add_offset", "units", "calendar", "chunks")}
        ds.to_zarr(v3, zarr_format=3, consolidated=False)
    fs.put(str(v3), f"{BUCKET}/sst_v3.zarr", recursive=True)
    fs.chmod(f"{BUCKET}/eraint_uvz.nc", acl="public-read")  # read anonymously over plain HTTP too
    for f in sorted((DATASETS / "cmip6_awi_ta").glob("*.nc"))[:3]:
        fs.put(str(f), f"{BUCKET}/awi/{f.name}")
    try:
        yield endpoint, options, fs
    finally:
        fs.clear_instance_cache()
        server.stop()


def remote_config(tmp: Path, collections: dict, **server) -> dict:
    return {"state_dir": str(tmp / "state"), "collections": collections, **server}


@contextlib.contextmanager
def app_client(raw: dict, root: Path):
    """A TestClient with the app's lifespan running (refresher started, registry closed at the end)."""
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    config = config_from_dict(raw, root)
    app = create_app(config, _registry(config))
    with TestClient(app) as c:
        yield c


def _registry(config):
    from cubeserver.registry import Registry

    return Registry(config, skip_broken=False)


def position(client, cid: str, lon: float, lat: float, params: str | None = None) -> dict:
    """The CoverageJSON ranges (values) of an EDR position query."""
    url = f"/collections/{cid}/position?coords=POINT({lon} {lat})&f=CoverageJSON"
    if params:
        url += f"&parameter-name={params}"
    r = client.get(url)
    assert r.status_code == 200, r.text
    return ranges(r.json())


def ranges(body: dict) -> dict:
    """{parameter: values} of a CoverageJSON Coverage, or {(i, parameter): values} of a CoverageCollection."""
    if "coverages" in body:
        return {(i, k): v for i, cov in enumerate(body["coverages"]) for k, v in ranges(cov).items()}
    return {k: v["values"] for k, v in body["ranges"].items()}


def put_bundled(fs) -> None:
    """Copy the bundled NetCDF and Zarr store into the bucket/container `cubes` of filesystem `fs`."""
    fs.mkdir("cubes")
    fs.put(str(DATASETS / "coads_sst.nc"), "cubes/coads_sst.nc")
    fs.put(str(DATASETS / "analysed_sst.zarr"), "cubes/analysed_sst.zarr", recursive=True)


def remote_and_local(scheme: str, options: dict, tmp: Path):
    """An app client serving `put_bundled`'s copies as `coads-<scheme>` and `sst-<scheme>` beside the local files."""
    return app_client(remote_config(tmp, {
        f"coads-{scheme}": {"path": f"{scheme}://cubes/coads_sst.nc", "storage_options": options},
        f"sst-{scheme}": {"path": f"{scheme}://cubes/analysed_sst.zarr", "format": "zarr", "storage_options": options},
        "coads": {"path": str(DATASETS / "coads_sst.nc")},
        "sst": {"path": str(DATASETS / "analysed_sst.zarr")},
    }), tmp)


def assert_same_as_local(client, remote: str, local: str, lon: float, lat: float) -> None:
    got = position(client, remote, lon, lat)
    assert got == position(client, local, lon, lat)
    assert any(v is not None for vals in got.values() for v in vals)


def assert_missing_object_is_503(scheme: str, options: dict, tmp: Path, secret: str | None = None) -> None:
    """A collection on an object that does not exist answers 503 StoreUnavailable naming it (no secret shown)."""
    raw = remote_config(tmp, {"gone": {"path": f"{scheme}://cubes/nothing-here.nc", "storage_options": options}})
    with app_client(raw, tmp) as c:
        r = c.get("/collections/gone/position?coords=POINT(0 0)")
    assert r.status_code == 503 and r.json()["code"] == "StoreUnavailable", r.text
    assert "gone" in r.json()["detail"] and "Traceback" not in r.text
    assert secret is None or secret not in r.text


@contextlib.contextmanager
def emulator(cmd: list[str], port: int, name: str, cwd: Path | None = None):
    """A storage emulator process listening on 127.0.0.1:`port` (fails the test if it does not within 30 s);
    terminated at the end."""
    import socket
    import subprocess
    import time

    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"{name} did not start")
            time.sleep(0.2)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)
