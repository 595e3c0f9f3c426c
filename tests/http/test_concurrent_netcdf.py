"""NetCDF written by several requests at once, while others read NetCDF sources, on a real server.

netCDF4-python's HDF5 is not thread-safe: two concurrent writes (two `coarsen` jobs, two
`f=netcdf` answers) or a write during a read used to kill the server process (segfault).
"""

from __future__ import annotations

import io
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests
import xarray as xr

from tests.conftest import default_server, open_source


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """A server of its own: if it dies, no other test's server goes with it."""
    with default_server(tmp_path_factory.mktemp("concurrent")) as served:
        yield served


def _netcdf(content: bytes) -> xr.Dataset:
    with tempfile.NamedTemporaryFile(suffix=".nc") as f:
        f.write(content)
        f.flush()
        with xr.open_dataset(f.name) as ds:
            return ds.load()


def test_concurrent_netcdf_writes_and_reads(own_server):
    proc, base = own_server
    coarsen = {"inputs": {"collection": "coads", "variables": "SST", "factors": {"x": 2}},
               "outputs": {"result": {"transmissionMode": "value"}}}
    jobs = (
        [("post", "/processes/coarsen/execution", coarsen)] * 4
        + [("get", "/collections/eraint/coverage", {"f": "netcdf", "properties": "u"})] * 6
        + [("get", "/collections/coads/position", {"coords": "POINT(-30 40)", "f": "netcdf"})] * 6
        + [("get", "/collections/coads/cube", {"bbox": "-40,30,-20,50"})] * 8
    )

    def call(job):
        method, path, arg = job
        if method == "post":
            return path, requests.post(base + path, json=arg, timeout=120)
        return path, requests.get(base + path, params=arg, timeout=120)

    answers = []
    with ThreadPoolExecutor(8) as pool:
        for _ in range(3):  # the crash this guards against was a race: give it several chances
            answers += list(pool.map(call, jobs))
            assert proc.poll() is None, "the server process died"
    sst = open_source("coads_sst.nc")["SST"]
    for path, r in answers:
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        if path.endswith("execution"):
            got = _netcdf(r.content)["SST"]
            expected = sst.coarsen(COADSX=2, boundary="trim").mean()
            np.testing.assert_allclose(got.values, expected.values, rtol=1e-6, equal_nan=True)
        elif path.endswith("position"):
            assert _netcdf(r.content)["SST"].size == 12
    assert requests.get(base + "/collections", timeout=30).status_code == 200
