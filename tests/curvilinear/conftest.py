"""Curvilinear-grid fixtures: a client on c12 (ROMS-like), ORCA2 (NEMO tripolar) and the NEMO monthly glob,
and independent ground truth computed on the source files with numpy, shapely and pyproj."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from covjson_pydantic.coverage import Coverage, CoverageCollection

from tests.conftest import DATASETS, client_for

R = 6_371_008.8
ORCA2 = DATASETS / "grids" / "orca2_votemper.nc"
NEMO = sorted((DATASETS / "grids" / "nemo").glob("*.nc"))


@pytest.fixture(scope="session")
def grids_client(cases, tmp_path_factory):
    cols = {"c12": {"path": str(cases / "c12_curvilinear.nc")},
            "c12-axes": {"path": str(cases / "c12_curvilinear.nc"), "axes": {"x": "xi_rho", "y": "eta_rho"}},
            "orca2": {"path": str(ORCA2)},
            "nemo": {"path": str(DATASETS / "grids" / "nemo" / "*.nc")}}
    with client_for(cols, tmp_path_factory.mktemp("grids")) as c:
        yield c


@pytest.fixture(scope="session")
def c12(cases) -> xr.Dataset:
    return xr.open_dataset(cases / "c12_curvilinear.nc").load()


@pytest.fixture(scope="session")
def orca2() -> xr.Dataset:
    return xr.open_dataset(ORCA2).load()


def haversine(lon0, lat0, lon, lat) -> np.ndarray:
    """Great-circle distance (m) on the sphere, haversine formula."""
    lon0, lat0, lon, lat = (np.radians(np.asarray(v, dtype="float64")) for v in (lon0, lat0, lon, lat))
    a = np.sin((lat - lat0) / 2) ** 2 + np.cos(lat0) * np.cos(lat) * np.sin((lon - lon0) / 2) ** 2
    return 2 * R * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def nearest(lon2d, lat2d, lon, lat) -> tuple[int, int, float]:
    d = haversine(lon, lat, lon2d, lat2d)
    iy, ix = np.unravel_index(np.nanargmin(d), d.shape)
    return int(iy), int(ix), float(d[iy, ix])


def covjson(client, url: str, **params) -> dict:
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text[:500]
    doc = r.json()
    (CoverageCollection if doc["type"] == "CoverageCollection" else Coverage).model_validate_json(r.content)
    return doc


def error(client, url: str, param: str, status: int = 400, **params) -> str:
    r = client.get(url, params=params)
    assert r.status_code == status, r.text[:500]
    body = r.json()
    assert body["parameter"] == param, body
    return body["detail"]


def cells_of(doc: dict) -> np.ndarray:
    """(n, 2) lon/lat of a MultiPoint(Series) composite axis."""
    comp = doc["domain"]["axes"]["composite"]
    assert comp["dataType"] == "tuple" and comp["coordinates"][:2] == ["x", "y"]
    return np.array([v[:2] for v in comp["values"]], dtype="float64")


def locate(lon2d, lat2d, pts: np.ndarray) -> list[tuple[int, int]]:
    """The source (row, column) of each returned lon/lat (exact match, longitudes compared modulo 360)."""
    out = []
    for lon, lat in pts:
        hit = np.argwhere((np.abs(((lon2d - lon + 180) % 360) - 180) < 1e-9) & (np.abs(lat2d - lat) < 1e-9))
        assert len(hit), (lon, lat)
        out.append(tuple(int(v) for v in hit[0]))
    return out
