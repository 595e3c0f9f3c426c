"""gs:// collections against a real GCS-compatible server (gcp-storage-emulator, started here), values equal to
the same files read locally: NetCDF through ranged reads and Zarr chunk by chunk.

gcsfs 2026.x first asks the bucket's storage layout over gRPC/TLS (for hierarchical buckets) and waits 60 s
when the endpoint is a plain-HTTP emulator; GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false (read when gcsfs is
imported) selects its JSON-API filesystem, which is what a custom `endpoint_url` speaks. README "Remote storage"."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
gcsfs = pytest.importorskip("gcsfs")

from tests.conftest import free_port  # noqa: E402
from tests.remote.conftest import assert_missing_object_is_503, emulator, assert_same_as_local, put_bundled, remote_and_local  # noqa: E402

EMULATOR = shutil.which("gcp-storage-emulator", path=str(Path(sys.executable).parent)) or shutil.which(
    "gcp-storage-emulator")


@pytest.fixture(scope="module")
def gcs(tmp_path_factory):
    if EMULATOR is None:
        pytest.skip("gcp-storage-emulator is not installed (test extra)")
    port = free_port()
    options = {"endpoint_url": f"http://127.0.0.1:{port}", "token": "anon", "project": "test"}
    with emulator([EMULATOR, "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"], port,
                  "gcp-storage-emulator"):
        fs = gcsfs.GCSFileSystem(**options)
        put_bundled(fs)
        try:
            yield options
        finally:
            fs.clear_instance_cache()


@pytest.fixture(scope="module")
def both(gcs, tmp_path_factory):
    with remote_and_local("gs", gcs, tmp_path_factory.mktemp("gs")) as c:
        yield c


@pytest.mark.parametrize("remote,local,lon,lat", [("coads-gs", "coads", -30.0, 10.0), ("sst-gs", "sst", -27.5, 40.5)])
def test_gcs_values_match_local(both, remote, local, lon, lat):
    assert_same_as_local(both, remote, local, lon, lat)


def test_missing_gcs_object_is_503_naming_the_collection(gcs, tmp_path):
    assert_missing_object_is_503("gs", gcs, tmp_path)
