"""Ground truth for tile and map tests, computed from the source files alone (xarray, pyproj, scipy, morecantile).

`lonlat_cells(name)` gives a bundled grid's cell centres as 2-D lon/lat and its values at the latest
time step (first level); `nearest_on_sphere` the source value nearest to each pixel centre (KD-tree on
unit vectors), with a flag for pixels whose nearest cell is unambiguous (clearly nearer than the
second nearest), where a nearest-neighbour tile must show exactly that value.
"""

from __future__ import annotations

import io

import morecantile
import numpy as np
import xarray as xr
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree

from tests.conftest import DATASETS


def _unit(lon, lat):
    lon, lat = np.radians(lon), np.radians(lat)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def lonlat_cells(name: str, variable: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lon2d, lat2d, values2d) of the bundled file `name` at its latest time step and first level."""
    path = DATASETS / name
    if name.endswith(".grib2"):
        ds = xr.open_dataset(path, engine="cfgrib", backend_kwargs={"indexpath": ""})
        return ds.longitude.values, ds.latitude.values, ds[variable].values.astype("float64")
    ds = xr.open_dataset(path)
    da = ds[variable]
    for d in da.dims:
        if d not in da.dims[-2:]:
            da = da.isel({d: -1 if "time" in d.lower() or d.upper() == "TIME" else 0})
    values = da.values.astype("float64")
    if "grid_mapping" in da.attrs:  # rotated pole: grid coordinates -> lon/lat with pyproj
        crs = CRS.from_cf(ds[da.attrs["grid_mapping"]].attrs)
        gx, gy = np.meshgrid(ds[da.dims[-1]].values, ds[da.dims[-2]].values)
        lon, lat = Transformer.from_crs(crs, "OGC:CRS84", always_xy=True).transform(gx, gy)
        return lon, lat, values
    if "nav_lon" in ds:
        return ds.nav_lon.values, ds.nav_lat.values, values
    x, y = ds[da.dims[-1]].values, ds[da.dims[-2]].values
    lon, lat = np.meshgrid(x, y)
    return lon, lat, values


def nearest_on_sphere(lon2d, lat2d, values, qlon, qlat):
    """(value, unambiguous) of the source cell nearest each query point (NaN-free cells and NaN cells alike)."""
    ok = np.isfinite(lon2d) & np.isfinite(lat2d)
    tree = cKDTree(_unit(lon2d[ok], lat2d[ok]))
    d, i = tree.query(_unit(np.ravel(qlon), np.ravel(qlat)), k=2)
    v = values[ok][i[:, 0]]
    clear = d[:, 0] < 0.7 * d[:, 1]
    return v.reshape(np.shape(qlon)), clear.reshape(np.shape(qlon)), d[:, 0].reshape(np.shape(qlon))


def tile_pixel_lonlat(tms_id: str, z: int, row: int, col: int):
    """Pixel-centre lon/lat of a tile, from morecantile's tile bounds and pyproj (north row first)."""
    tms = morecantile.tms.get(tms_id)
    b = tms.xy_bounds(morecantile.Tile(col, row, z))
    m = tms.matrix(z)
    xs = b.left + (np.arange(m.tileWidth) + 0.5) * (b.right - b.left) / m.tileWidth
    ys = b.top - (np.arange(m.tileHeight) + 0.5) * (b.top - b.bottom) / m.tileHeight
    gx, gy = np.meshgrid(xs, ys)
    crs = CRS.from_user_input(tms.crs.srs)
    lon, lat = Transformer.from_crs(crs, "OGC:CRS84", always_xy=True).transform(gx, gy)
    return lon, lat, (b.left, b.bottom, b.right, b.top)


def rgba(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def expected_colours(values: np.ndarray, colormap: str, vmin: float, vmax: float) -> np.ndarray:
    """matplotlib's colormap on Normalize(vmin, vmax), 256 colours, as RGBA bytes."""
    import matplotlib

    try:
        import cmocean  # noqa: F401 - registers cmo.* names
    except ImportError:
        pass
    cmap = matplotlib.colormaps[colormap].resampled(256)
    x = np.clip((values - vmin) / (vmax - vmin), 0, 1)
    return cmap(np.minimum(np.floor(x * 256), 255).astype(int), bytes=True)
