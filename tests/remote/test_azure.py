"""az:// collections against a real Azure Blob server (Azurite, Microsoft's emulator from npm, started here),
values equal to the same files read locally: NetCDF through ranged reads and Zarr chunk by chunk.

Azurite comes from `.ci/run` (`npm install --prefix .ci/node azurite@3`); elsewhere set AZURITE_BLOB to its
`azurite-blob` command or put it on PATH. README "Remote storage"."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

adlfs = pytest.importorskip("adlfs")

from tests.conftest import free_port  # noqa: E402
from tests.remote.conftest import assert_missing_object_is_503, emulator, assert_same_as_local, put_bundled, remote_and_local  # noqa: E402

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
    options = {"connection_string": f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
                                    f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"}
    with emulator([AZURITE, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
                   "--skipApiVersionCheck", "--silent"], port, "Azurite", cwd=tmp_path_factory.mktemp("azurite")):
        fs = adlfs.AzureBlobFileSystem(**options)
        put_bundled(fs)
        try:
            yield options
        finally:
            fs.clear_instance_cache()


@pytest.fixture(scope="module")
def both(azure, tmp_path_factory):
    with remote_and_local("az", azure, tmp_path_factory.mktemp("az")) as c:
        yield c


@pytest.mark.parametrize("remote,local,lon,lat", [("coads-az", "coads", -30.0, 10.0), ("sst-az", "sst", -27.5, 40.5)])
def test_azure_values_match_local(both, remote, local, lon, lat):
    assert_same_as_local(both, remote, local, lon, lat)


def test_missing_azure_blob_is_503_naming_the_collection(azure, tmp_path):
    assert_missing_object_is_503("az", azure, tmp_path, secret=KEY)
