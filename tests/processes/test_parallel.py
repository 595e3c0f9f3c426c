"""A generated ~190 MB Zarr cube in many chunks: monthly means run as many dask tasks on both workers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from cubeserver.config import config_from_dict

from .conftest import netcdf

NT, NY, NX = 730, 180, 360  # two years daily on a 1-degree grid: 189 MB of float32
CHUNKS = {"time": 73, "lat": 90, "lon": 90}  # 10 x 2 x 4 = 80 chunks


@pytest.fixture(scope="module")
def cube(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cube")
    rng = np.random.default_rng(42)
    time = pd.date_range("2001-01-01", periods=NT, freq="D")
    season = np.cos(2 * np.pi * time.dayofyear.values / 365.0).astype("float32")
    data = rng.standard_normal((NT, NY, NX), dtype="float32") + 10 * season[:, None, None]
    data[:, :10, :] = np.nan  # a band of missing values
    ds = xr.Dataset(
        {"tas": (("time", "lat", "lon"), data, {"units": "K", "standard_name": "air_temperature"})},
        coords={"time": time,
                "lat": ("lat", np.arange(-89.5, 90, 1.0), {"units": "degrees_north", "standard_name": "latitude"}),
                "lon": ("lon", np.arange(-179.5, 180, 1.0), {"units": "degrees_east", "standard_name": "longitude"})},
    )
    path = tmp / "cube.zarr"
    ds.chunk(CHUNKS).to_zarr(path, consolidated=True, zarr_format=2, encoding={"tas": {"compressors": None}})
    return tmp, path, data, time


def test_monthly_mean_runs_as_many_tasks_and_matches_numpy(cube, app):
    """Served by its own app; its jobs go to the session app's LocalCluster (no second cluster start-up)."""
    from distributed import get_task_stream
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app

    tmp, path, data, time = cube
    shared = app.state.ctx.services["jobs"].runner.client()
    assert len(shared.scheduler_info()["workers"]) == 2
    cfg = config_from_dict({"state_dir": str(tmp / "state"), "collections": {"synth": {"path": str(path)}},
                            "dask": {"scheduler_address": shared.scheduler.address}}, tmp)
    with TestClient(create_app(cfg)) as c:
        dask_client = c.app.state.ctx.services["jobs"].runner.client()
        with get_task_stream(client=dask_client) as ts:
            r = c.post("/processes/temporal-aggregate/execution", json={
                "inputs": {"collection": "synth", "grouping": "month"}, "response": "document"})
        assert r.status_code == 200, r.text
        job_id = r.headers["link"].split("/jobs/")[1].split(">")[0]
        out = netcdf(c.get(f"/jobs/{job_id}/results/result").content)
    month = time.year.values * 12 + time.month.values
    with np.errstate(all="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        expected = np.stack([np.nanmean(data[month == m], axis=0) for m in np.unique(month)])
    assert out["tas"].shape == (24, NY, NX)
    np.testing.assert_allclose(out["tas"].values, expected, rtol=1e-5, atol=1e-5, equal_nan=True)
    assert out["tas"].attrs["units"] == "K"
    assert str(out["time"].values[0])[:10] == "2001-01-01" and str(out["time"].values[-1])[:10] == "2002-12-01"
    tasks = ts.data
    assert len(tasks) >= 80  # at least one task per input chunk ran on the cluster
    assert len({t["worker"] for t in tasks}) == 2  # and both workers took part
