"""Helpers for the map image tests: decode images, pixel centres, and colours computed independently
(the source file read with xarray, positions with pyproj / a KD-tree on the sphere, colours with
matplotlib's colormap) for comparison with what the server drew."""

from __future__ import annotations

import io

import cmocean  # noqa: F401 - registers the cmo.* colormaps
import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.colors import Normalize
from PIL import Image
from scipy.spatial import cKDTree

from tests.conftest import DATASETS, client_for


def rgba(content: bytes) -> np.ndarray:
    """(h, w, 4) uint8 of a PNG/WebP (RGB images get alpha 255)."""
    return np.asarray(Image.open(io.BytesIO(content)).convert("RGBA"))


def centres(bbox, width: int, height: int):
    """Pixel-centre x (width,) and y (height,) of an image covering bbox, north row first."""
    minx, miny, maxx, maxy = bbox
    xs = minx + (np.arange(width) + 0.5) * (maxx - minx) / width
    ys = maxy - (np.arange(height) + 0.5) * (maxy - miny) / height
    return xs, ys


def colour(values: np.ndarray, cmap: str, vmin: float, vmax: float) -> np.ndarray:
    """matplotlib's colours of values (uint8 RGBA)."""
    return colormaps[cmap](Normalize(vmin, vmax)(np.ma.masked_invalid(np.asarray(values, dtype="float64"))), bytes=True)


def nearest_on_axis(values: np.ndarray, q: np.ndarray):
    """(index of the nearest centre, unambiguous) on a 1-D axis: a query almost halfway between two centres
    (within 2 % of a cell) is ambiguous and left out of comparisons."""
    order = np.argsort(values)
    v = values[order]
    k = np.clip(np.searchsorted(v, q), 1, len(v) - 1)
    left, right = v[k - 1], v[k]
    pick = np.where(np.abs(q - left) <= np.abs(right - q), k - 1, k)
    gap = right - left
    clear = np.abs(np.abs(q - left) - np.abs(right - q)) > 0.02 * gap
    inside = (q >= v[0] - (v[1] - v[0]) / 2) & (q <= v[-1] + (v[-1] - v[-2]) / 2)
    return order[pick], clear & inside, inside


def unit(lon, lat):
    lo, la = np.radians(np.ravel(lon)), np.radians(np.ravel(lat))
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def sphere_nearest(lon2d, lat2d, qlon, qlat):
    """Nearest cell (flat index) on the sphere for query points, the chord distance, and whether the second
    nearest is clearly farther (ratio > 1.1)."""
    ok = np.isfinite(lon2d) & np.isfinite(lat2d)
    flat = np.flatnonzero(ok.ravel())
    tree = cKDTree(unit(np.ravel(lon2d)[flat], np.ravel(lat2d)[flat]))
    d, k = tree.query(unit(qlon, qlat), k=2)
    return flat[k[:, 0]], d[:, 0], d[:, 1] > 1.1 * d[:, 0]


@pytest.fixture(scope="module")
def styled_client(tmp_path_factory):
    """A client on bundled collections with fixed styles (so expected colours need nothing from the server)."""
    tmp = tmp_path_factory.mktemp("maps")
    cols = {
        "basin": {"path": str(DATASETS / "basin_mask.nc"), "axes": {"z_positive": "down"},
                  "styles": {"basin": {"kind": "continuous", "colormap": "viridis", "range": [0, 60]}}},
        "era": {"path": str(DATASETS / "eraint_uvz.nc"),
                "styles": {"u": {"colormap": "RdBu_r", "range": [-40, 40]},
                           "z": {"colormap": "viridis", "range": [45000, 60000],
                                 "extra": [{"id": "iso", "kind": "contour", "levels": [50000, 52000, 54000, 56000]}]}}},
        "hrdps": {"path": str(DATASETS / "CMC_hrdps_continental_TMP_TGL_80_ps2.5km_2020102700_P005-00.grib2"),
                  "styles": {"t": {"colormap": "viridis", "range": [250, 300]}}},
        "rotated": {"path": str(DATASETS / "grids/rotated_pole.nc"),
                    "styles": {"air_pressure_at_sea_level": {"colormap": "cmo.haline", "range": [98000, 104000]}}},
        "stereo": {"path": str(DATASETS / "grids/toa_brightness_stereographic.nc"),
                   "styles": {"data": {"colormap": "magma", "range": [220, 320]}}},
        "orca": {"path": str(DATASETS / "grids/orca2_votemper.nc"),
                 "styles": {"votemper": {"colormap": "cmo.thermal", "range": [-2, 30]}}},
        "mur": {"path": str(DATASETS / "analysed_sst.zarr")},
        "places": {"path": str(DATASETS / "ne_110m_populated_places_simple.geojson")},
    }
    with client_for(cols, tmp) as c:
        yield c
