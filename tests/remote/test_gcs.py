"""gs:// collections against a real GCS-compatible server (gcp-storage-emulator, started here), values equal to
the same files read locally: NetCDF through ranged reads and Zarr chunk by chunk.

gcsfs 2026.x first asks the bucket's storage layout over gRPC/TLS (for hierarchical buckets) and waits 60 s
when the endpoint is a plain-HTTP emulator; GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false (read when gcsfs is
imported) selects its JSON-API filesystem, which is what a custom `endpoint_url` speaks. README "Remote storage"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
gcsfs = pytest.importorskip("gcsfs")

from tests.conftest import DATASETS, free_port  # noqa: E402
from tests.remote.conftest import app_client, position, remote_config  # noqa: E402

EMULATOR = shutil.which("gcp-storage-emulator", path=str(Path(sys.executable).parent)) or shutil.which(
    "gcp-storage-emulator")


@pytest.fixture(scope="module")
def gcs(tmp_path_factory):
    if EMULATOR is None:
        pytest.skip("gcp-storage-emulator is not installed (test extra)")
    port = free_port()
    proc = subprocess.Popen([EMULATOR, "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/storage/v1/b?project=test", timeout=2).read()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("gcp-storage-emulator did not start")
            time.sleep(0.2)
    options = {"endpoint_url": endpoint, "token": "anon", "project": "test"}
    fs = gcsfs.GCSFileSystem(**options)
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
def both(gcs, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gcs")
    raw = remote_config(tmp, {
        "coads-gs": {"path": "gs://cubes/coads_sst.nc", "storage_options": gcs},
        "sst-gs": {"path": "gs://cubes/analysed_sst.zarr", "format": "zarr", "storage_options": gcs},
        "coads": {"path": str(DATASETS / "coads_sst.nc")},
        "sst": {"path": str(DATASETS / "analysed_sst.zarr")},
    })
    with app_client(raw, tmp) as c:
        yield c


@pytest.mark.parametrize("remote,local,lon,lat", [("coads-gs", "coads", -30.0, 10.0), ("sst-gs", "sst", -27.5, 40.5)])
def test_gcs_values_match_local(both, remote, local, lon, lat):
    got = position(both, remote, lon, lat)
    assert got == position(both, local, lon, lat)
    assert any(v is not None for vals in got.values() for v in vals)


def test_missing_gcs_object_is_503_naming_the_collection(gcs, tmp_path):
    raw = remote_config(tmp_path, {"gone": {"path": "gs://cubes/nothing-here.nc", "storage_options": gcs}})
    with app_client(raw, tmp_path) as c:
        r = c.get("/collections/gone/position?coords=POINT(0 0)")
    assert r.status_code == 503 and r.json()["code"] == "StoreUnavailable", r.text
    assert "gone" in r.json()["detail"] and "Traceback" not in r.text
