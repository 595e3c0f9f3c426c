"""Many large streamed CoverageJSON answers at once on a real server (issue 13, point 3).

Each streamed answer used to hold two threads of the event loop's default pool (an encoder and
a reader waiting for it); 8 at once filled the pool with readers whose encoders could never
start, and all 8 hung. Now readers await without a thread and encoders have their own pool.
"""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from cubeserver.encode.covjson_stream import STREAM_MIN_VALUES
from tests.conftest import start_server

SHAPE = (3, 400, 1000)  # 1.2 M values per answer: over the streaming threshold


def _serve_big_cube(tmp, limits: dict | None = None):
    rng = np.random.default_rng(7)
    values = rng.normal(280, 10, SHAPE).astype("float32")
    ds = xr.Dataset(
        {"t2m": (("time", "lat", "lon"), values, {"units": "K", "standard_name": "air_temperature"})},
        coords={"time": pd.date_range("2020-01-01", periods=SHAPE[0], freq="D"),
                "lat": ("lat", np.linspace(-59.85, 59.85, SHAPE[1]), {"units": "degrees_north"}),
                "lon": ("lon", np.linspace(-179.82, 179.82, SHAPE[2]), {"units": "degrees_east"})})
    path = tmp / "big.nc"
    ds.to_netcdf(path)
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump({"state_dir": str(tmp / "state"), "collections": {"big": {"path": str(path)}},
                                      "limits": limits or {}}))
    proc, base = start_server(config, tmp)
    try:
        yield base, ds
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture(scope="module")
def big_cube_server(tmp_path_factory):
    yield from _serve_big_cube(tmp_path_factory.mktemp("streams"))


BYTES_PER_ANSWER = SHAPE[0] * SHAPE[1] * SHAPE[2] * (4 + 10)  # cubeserver.budget's estimate for float32


@pytest.fixture(scope="module")
def budget_server(tmp_path_factory):
    # room for one large answer in flight, not two
    yield from _serve_big_cube(tmp_path_factory.mktemp("budget"), {"memory_budget_bytes": int(BYTES_PER_ANSWER * 1.5)})


CUBE = "/collections/big/cube?bbox=-180,-60,180,60&datetime=2020-01-01/2020-01-03&parameter-name=t2m"


@pytest.mark.parametrize("concurrent", [12])
def test_concurrent_large_covjson_all_complete(big_cube_server, concurrent):
    base, ds = big_cube_server
    assert ds["t2m"].size >= STREAM_MIN_VALUES
    url = base + CUBE

    async def one(client):
        r = await client.get(url)
        return r.status_code, r.headers.get("content-type", ""), r.content

    async def all_at_once():
        async with httpx.AsyncClient(timeout=httpx.Timeout(180)) as client:  # httpx's default headers: gzip allowed
            return await asyncio.gather(*(one(client) for _ in range(concurrent)))

    answers = asyncio.run(all_at_once())
    expected = ds["t2m"].values
    for status, ctype, body in answers:
        assert status == 200 and "coverage+json" in ctype
        doc = httpx.Response(200, content=body).json()
        got = np.asarray(doc["ranges"]["t2m"]["values"], dtype="float32").reshape(expected.shape)
        np.testing.assert_array_equal(got, expected)
    # and the server still answers small requests
    assert httpx.get(f"{base}/collections/big", timeout=30).status_code == 200


def test_memory_budget_answers_503_while_full_then_serves(budget_server):
    base, ds = budget_server
    with httpx.Client(timeout=120) as first_client, httpx.Client(timeout=120) as other:
        with first_client.stream("GET", base + CUBE) as first:  # booked, and held: we read nothing yet
            assert first.status_code == 200
            busy = other.get(base + CUBE)
            assert busy.status_code == 503, busy.text[:300]
            assert int(busy.headers["retry-after"]) > 0
            assert busy.json()["code"] == "ServerBusy" and "MiB" in busy.json()["detail"]
            small = other.get(base + "/collections/big/position?coords=POINT(10 10)")
            assert small.status_code == 200  # small answers still fit
            body = first.read()
        assert len(body) > 1_000_000
    after = httpx.get(base + CUBE, timeout=120)  # the first answer gave its bytes back when it ended
    assert after.status_code == 200
    got = np.asarray(after.json()["ranges"]["t2m"]["values"], dtype="float32").reshape(ds["t2m"].shape)
    np.testing.assert_array_equal(got, ds["t2m"].values)
