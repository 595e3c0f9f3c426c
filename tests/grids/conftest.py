"""Grids with a CF grid mapping: a client serving them, and independent answers from pyproj + xarray.

Every expected value here is computed from the source file alone: its own grid-mapping
attributes through `pyproj.CRS.from_cf`, pyproj transformations, xarray's nearest selection,
pyproj.Geod distances and shapely; never from cubeserver's code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
import xarray as xr
from covjson_pydantic.coverage import Coverage, CoverageCollection
from pyproj import CRS, Transformer

from tests.conftest import DATASETS, client_for

GRIDS_DIR = DATASETS / "grids"
CRS84 = CRS.from_user_input("OGC:CRS84")


@dataclass(frozen=True)
class Grid:
    """One served file: collection id, path, the 2-D field used, its grid mapping and x/y names."""

    cid: str
    path: str
    var: str
    mapping: str
    x: str
    y: str
    fixed: tuple = ()  # (dim, index) pairs that make `var` 2-D (e.g. a model level)
    params: tuple = ()  # query parameters that select the same slice

    def source(self) -> xr.Dataset:
        return xr.open_dataset(self.path)

    def crs(self, src: xr.Dataset) -> CRS:
        """The CRS from the file's own grid-mapping attributes."""
        return CRS.from_cf(src[self.mapping].attrs)

    def field(self, src: xr.Dataset) -> xr.DataArray:
        da = src[self.var]
        for dim, i in self.fixed:
            da = da.isel({dim: i})
        return da


GRIDS = {
    "rp": Grid("rp", str(GRIDS_DIR / "rotated_pole.nc"), "air_pressure_at_sea_level", "rotated_latitude_longitude",
               "grid_longitude", "grid_latitude"),
    "sw": Grid("sw", str(GRIDS_DIR / "space_weather.nc"), "TEC", "rotated_pole", "rLon", "rLat"),
    "hh": Grid("hh", str(GRIDS_DIR / "hybrid_height.nc"), "air_potential_temperature", "rotated_latitude_longitude",
               "grid_longitude", "grid_latitude", fixed=(("model_level_number", 2),), params=(("z", "3"),)),
    "toa": Grid("toa", str(GRIDS_DIR / "toa_brightness_stereographic.nc"), "data", "stereographic", "x", "y"),
}


class Native:
    """The grid seen from pyproj: lon/lat <-> native x/y, wrapped to the grid's own frame for rotated poles."""

    def __init__(self, grid: Grid, src: xr.Dataset):
        self.grid, self.src = grid, src
        self.crs = grid.crs(src)
        self.xs = src[grid.x].values.astype("float64")
        self.ys = src[grid.y].values.astype("float64")
        self.fwd = Transformer.from_crs(CRS84, self.crs, always_xy=True)
        self.back = Transformer.from_crs(self.crs, CRS84, always_xy=True)

    @property
    def cell_deg(self) -> float:
        """The larger grid spacing, in degrees of latitude (metres / 111 km on projected grids)."""
        step = max(abs(self.xs[1] - self.xs[0]), abs(self.ys[1] - self.ys[0]))
        return float(step if self.crs.is_geographic else step / 111_000.0)

    def frame(self, x):
        """Rotated longitudes as stored: the representation nearest the grid's centre."""
        if not self.crs.is_geographic:
            return np.asarray(x, dtype="float64")
        centre = (self.xs.min() + self.xs.max()) / 2
        return np.asarray(x) + 360.0 * np.round((centre - np.asarray(x)) / 360.0)

    def to_native(self, lon, lat):
        x, y = self.fwd.transform(np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64"))
        return self.frame(x), np.asarray(y)

    def centres_lonlat(self):
        X, Y = np.meshgrid(self.xs, self.ys)
        lon, lat = self.back.transform(X, Y)
        return np.asarray(lon), np.asarray(lat)

    def lonlat_of(self, j: int, i: int) -> tuple[float, float]:
        lon, lat = self.back.transform(self.xs[i], self.ys[j])
        return float(lon), float(lat)

    def nearest(self, lon: float, lat: float) -> xr.DataArray:
        """The source cell xarray picks for the transformed point (method='nearest' on each axis)."""
        x, y = self.to_native(lon, lat)
        return self.grid.field(self.src).sel({self.grid.x: float(x), self.grid.y: float(y)}, method="nearest")

    def index(self, x: float, y: float) -> tuple[int, int]:
        return int(np.argmin(np.abs(self.ys - y))), int(np.argmin(np.abs(self.xs - x)))


def interior_points(native: Native, n: int, seed: int = 7) -> list[tuple[float, float]]:
    """Lon/lat of random points well inside the grid (a 20 % margin), not at cell centres."""
    rng = np.random.default_rng(seed)
    xs, ys = native.xs, native.ys
    fx = rng.uniform(0.2, 0.8, n)
    fy = rng.uniform(0.2, 0.8, n)
    x = xs.min() + fx * (xs.max() - xs.min())
    y = ys.min() + fy * (ys.max() - ys.min())
    lon, lat = native.back.transform(x, y)
    return [(float(a), float(b)) for a, b in zip(lon, lat)]


def covjson(client, path: str, status: int = 200, **params) -> dict:
    r = client.get(path, params=params)
    assert r.status_code == status, (r.status_code, r.text[:600])
    if status != 200:
        return r.json()
    doc = r.json()
    (CoverageCollection if doc["type"] == "CoverageCollection" else Coverage).model_validate_json(r.content)
    return doc


def grid_cells(cov: dict, name: str) -> dict[tuple[float, float], float]:
    """{(x, y): value} of the non-null cells of a Grid coverage (one level/time)."""
    axes = cov["domain"]["axes"]
    xs, ys = axes["x"]["values"], axes["y"]["values"]
    rng = cov["ranges"][name]
    vals = np.array([np.nan if v is None else v for v in rng["values"]], dtype="float64").reshape(rng["shape"])
    vals = vals.reshape(len(ys), len(xs))
    return {(float(xs[i]), float(ys[j])): float(vals[j, i])
            for j in range(len(ys)) for i in range(len(xs)) if np.isfinite(vals[j, i])}


@pytest.fixture(scope="session")
def grids_client(tmp_path_factory, cases):
    """One server for the real grid-mapping files, c01 and a named-locations collection."""
    tmp = tmp_path_factory.mktemp("grids")
    places = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "berlin", "properties": {"name": "Berlin"},
         "geometry": {"type": "Point", "coordinates": [13.4, 52.5]}},
        {"type": "Feature", "id": "paris", "properties": {"name": "Paris"},
         "geometry": {"type": "Point", "coordinates": [2.35, 48.86]}},
    ]}
    (tmp / "places.geojson").write_text(json.dumps(places))
    cols = {g.cid: {"path": g.path, "locations": "places"} for g in GRIDS.values()}
    cols["c01"] = {"path": str(cases / "c01_rotated_pole.nc"), "locations": "places"}
    cols["ps"] = {"path": str(GRIDS_DIR / "polar_stereo.grib2")}
    cols["places"] = {"path": str(tmp / "places.geojson")}
    with client_for(cols, tmp) as c:
        yield c


def same_crs(a: CRS, b: CRS) -> bool:
    """Equal CRSs; PROJ finds a `from_cf` rotated pole unequal to its own WKT, so compare as WKT too."""
    a, b = CRS.from_user_input(a), CRS.from_user_input(b)
    return a.equals(b, ignore_axis_order=True) or CRS.from_wkt(a.to_wkt()).equals(CRS.from_wkt(b.to_wkt()))


def netcdf_answer(client, tmp_path, url, **params) -> xr.Dataset:
    """GET `url` (200 expected) and open the NetCDF answer with xarray, loaded."""
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text[:500]
    path = tmp_path / f"answer-{abs(hash((url, tuple(sorted(params.items())))))}.nc"
    path.write_bytes(r.content)
    return xr.open_dataset(path).load()
