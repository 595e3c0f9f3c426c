"""EDR test helpers: CoverageJSON validation, values as numpy, and a small forecast archive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from covjson_pydantic.coverage import Coverage, CoverageCollection

COVJSON = "application/prs.coverage+json"


def query(client, path: str, status: int = 200, **params):
    """GET with EDR parameter names (underscores become dashes), asserting the status."""
    params = {k.replace("_", "-"): v for k, v in params.items()}
    r = client.get(path, params=params)
    assert r.status_code == status, (r.status_code, r.text[:500])
    return r


def covjson(client, path: str, **params) -> dict:
    """A CoverageJSON answer, checked against covjson-pydantic, as a dict."""
    r = query(client, path, **params)
    assert r.headers["content-type"].startswith(COVJSON)
    doc = r.json()
    model = CoverageCollection if doc["type"] == "CoverageCollection" else Coverage
    model.model_validate_json(r.content)
    return doc


def values(cov: dict, name: str) -> np.ndarray:
    """A range as a float array shaped like its NdArray (null -> NaN)."""
    rng = cov["ranges"][name]
    flat = np.array([np.nan if v is None else v for v in rng["values"]], dtype="float64")
    return flat.reshape(rng["shape"])


def times(axis: dict) -> list[pd.Timestamp]:
    return [pd.Timestamp(t) for t in axis["values"]]


def error(client, path: str, param: str, status: int = 400, **params) -> str:
    """An OGC exception naming `param`; returns its detail."""
    r = query(client, path, status=status, **params)
    body = r.json()
    assert body["status"] == status
    assert body.get("parameter") == param, body
    return body["detail"]


@pytest.fixture(scope="session")
def forecast(tmp_path_factory):
    """A 3-run × 5-lead-time forecast on a 1° grid, where value = run index * 100 + lead hours + lat/100."""
    tmp = tmp_path_factory.mktemp("forecast")
    runs = pd.date_range("2024-03-01T00:00", periods=3, freq="12h")
    steps = pd.to_timedelta(np.arange(0, 30, 6), unit="h")
    lat = np.arange(40.5, 50.5, 1.0)
    lon = np.arange(-5.5, 10.5, 1.0)
    data = (np.arange(3)[:, None, None, None] * 100 + np.arange(0, 30, 6)[None, :, None, None]
            + lat[None, None, :, None] / 100 + 0 * lon[None, None, None, :]).astype("float32")
    ds = xr.Dataset(
        {"t2m": (("reference_time", "step", "lat", "lon"), data,
                 {"units": "K", "standard_name": "air_temperature", "long_name": "2 m temperature"})},
        coords={"reference_time": ("reference_time", runs.values, {"standard_name": "forecast_reference_time"}),
                "step": ("step", steps.values, {"standard_name": "forecast_period"}),
                "lat": ("lat", lat, {"standard_name": "latitude", "units": "degrees_north"}),
                "lon": ("lon", lon, {"standard_name": "longitude", "units": "degrees_east"})},
    )
    path = tmp / "forecast.nc"
    ds.to_netcdf(path)
    return path, ds


@pytest.fixture(scope="session")
def forecast_client(forecast, tmp_path_factory):
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    path, _ = forecast
    raw = {"state_dir": str(tmp_path_factory.mktemp("fc-state")),
           "collections": {"fc": {"path": str(path), "reference_time": "reference_time"}}}
    with TestClient(create_app(config_from_dict(raw, path.parent))) as c:
        yield c
