"""az:// collections against a real Azure Blob server (Azurite, Microsoft's emulator from npm, started here),
values equal to the same files read locally: NetCDF through ranged reads and Zarr chunk by chunk.

Azurite comes from `.ci/run` (`npm install --prefix .ci/node azurite@3`); elsewhere set AZURITE_BLOB to its
`azurite-blob` command or put it on PATH. README "Remote storage"."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

adlfs = pytest.importorskip("adlfs")

from tests.conftest import DATASETS, free_port  # noqa: E402
from tests.remote.conftest import app_client, position, remote_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
AZURITE = os.environ.get("AZURITE_BLOB") or shutil.which("azurite-blob", path=str(ROOT / ".ci/node/node_modules/.bin")) \
    or shutil.which("azurite-blob")
# Azurite's fixed development account (published by Microsoft for the emulator; not a secret)
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@pytest.fixture(scope="module")
def azure(tmp_path_factory):
    if AZURITE is None:
        pytest.skip("Azurite is not installed (.ci/run installs it with npm; or set AZURITE_BLOB)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("azurite")
    proc = subprocess.Popen([AZURITE, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
                             "--skipApiVersionCheck", "--silent"],
                            cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("Azurite did not start")
            time.sleep(0.2)
    options = {"connection_string": f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
                                    f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"}
    fs = adlfs.AzureBlobFileSystem(**options)
    fs.mkdir("cubes")
    fs.put(str(DATASETS / "coads_sst.nc"), "cubes/coads_sst.nc")
    fs.put(str(DATASETS / "analysed_sst.zarr"), "cubes/analysed_sst.zarr", recursive=True)
    try:
        yield options
    finally:
        fs.clear_instance_cache()
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def both(azure, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("az")
    raw = remote_config(tmp, {
        "coads-az": {"path": "az://cubes/coads_sst.nc", "storage_options": azure},
        "sst-az": {"path": "az://cubes/analysed_sst.zarr", "format": "zarr", "storage_options": azure},
        "coads": {"path": str(DATASETS / "coads_sst.nc")},
        "sst": {"path": str(DATASETS / "analysed_sst.zarr")},
    })
    with app_client(raw, tmp) as c:
        yield c


@pytest.mark.parametrize("remote,local,lon,lat", [("coads-az", "coads", -30.0, 10.0), ("sst-az", "sst", -27.5, 40.5)])
def test_azure_values_match_local(both, remote, local, lon, lat):
    got = position(both, remote, lon, lat)
    assert got == position(both, local, lon, lat)
    assert any(v is not None for vals in got.values() for v in vals)


def test_missing_azure_blob_is_503_without_the_key(azure, tmp_path):
    raw = remote_config(tmp_path, {"gone": {"path": "az://cubes/nothing-here.nc", "storage_options": azure}})
    with app_client(raw, tmp_path) as c:
        r = c.get("/collections/gone/position?coords=POINT(0 0)")
    assert r.status_code == 503 and r.json()["code"] == "StoreUnavailable", r.text
    assert "gone" in r.json()["detail"] and KEY not in r.text and "Traceback" not in r.text
