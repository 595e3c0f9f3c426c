"""Tile bodies: map tiles through the shared renderer, coverage tiles as GeoTIFF/NetCDF on the tile's grid.

A map tile is a map (cubeserver.render.render_map) whose bbox is the tile's bounds in the tile
matrix set's CRS and whose size is the tile's; nothing here colours a pixel. A coverage (data) tile
holds the same values before colouring (render.map_values, one array per field: the same selection,
reprojection and nearest-neighbour sampling as the map), written on the tile's exact grid (pixel
centres at the tile's cell centres, the TMS CRS), so a tile's pixel (i, j) is the value under map
pixel (i, j). A tile that lies wholly outside the data's extent is a fully transparent image (map
tiles: what Leaflet/MapLibre expect) or an all-nodata grid (coverage tiles), without reading data.
Blocking: run through context.run_blocking.
"""

from __future__ import annotations

import io
import os
import tempfile
from functools import lru_cache

import numpy as np
import xarray as xr

from ..axes import AxisModel
from ..registry import Collection
from . import matrices
from .matrices import Tile
from .params import TileQuery


def extent84(c: Collection) -> tuple[float, float, float, float]:
    return tuple(float(v) for v in c.axes.crs84_bbox())


@lru_cache(maxsize=64)
def blank_image(fmt: str, width: int, height: int, transparent: bool = True, bgcolor: str | None = None) -> bytes:
    """An empty image: fully transparent (PNG/WebP) or the background colour (JPEG, or transparent=false)."""
    from PIL import Image

    colour = (255, 255, 255)
    if bgcolor:
        text = bgcolor.strip().lstrip("#")
        text = text[2:] if text.lower().startswith("0x") else text
        try:
            colour = tuple(int(text[i:i + 2], 16) for i in (0, 2, 4))
        except ValueError:
            pass
    if fmt == "jpeg" or not transparent:
        img = Image.new("RGB", (width, height), colour)
    else:
        img = Image.new("RGBA", (width, height), (*colour, 0))
    buf = io.BytesIO()
    img.save(buf, format={"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt], **({"lossless": True} if fmt == "webp" else {}))
    return buf.getvalue()


def map_request(tile: Tile, q: TileQuery, parameter: str):
    from ..render import MapRequest

    width, height = tile.size
    return MapRequest(parameter=parameter, bbox=tile.xy_bounds, crs=matrices.crs_uri(tile.tms), width=width,
                      height=height, datetime=q.datetime, subset=dict(q.subset), style=q.style,
                      transparent=q.transparent, bgcolor=q.bgcolor,
                      format=q.format if q.format in ("png", "jpeg", "webp") else "png")


def map_tile(c: Collection, tile: Tile, q: TileQuery) -> bytes:
    """The PNG/JPEG/WebP bytes of one map tile (render_map errors propagate: 400 naming the parameter)."""
    from ..render import render_map

    if not matrices.intersects(tile.crs84_bounds, extent84(c)):
        from ..render.palette import find_style

        check_only(c, tile, q)
        find_style(c, q.properties[0], q.style, q.subset)  # an unknown style is a 404 everywhere
        width, height = tile.size
        return blank_image(q.format, width, height, q.transparent, q.bgcolor)
    return render_map(c, map_request(tile, q, q.properties[0]))


def check_only(c: Collection, tile: Tile, q: TileQuery) -> None:
    """Parameters are checked even for a tile outside the data (a wrong datetime is a 400 everywhere): a
    1x1 map at the data's own corner validates them through the renderer at negligible cost."""
    from ..render import MapRequest, map_values

    w, s, e, n = extent84(c)
    lon, lat = (w + (e if e > w else w + 0.01)) / 2, (s + n) / 2
    map_values(c, MapRequest(parameter=q.properties[0], bbox=(lon - 1e-6, lat - 1e-6, lon + 1e-6, lat + 1e-6),
                             width=1, height=1, datetime=q.datetime, subset=dict(q.subset), style=q.style))


def tile_grid(tile: Tile) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre x (west->east) and y (north->south) coordinates of the tile's pixels in the TMS CRS."""
    minx, miny, maxx, maxy = tile.xy_bounds
    width, height = tile.size
    xs = minx + (np.arange(width) + 0.5) * (maxx - minx) / width
    ys = maxy - (np.arange(height) + 0.5) * (maxy - miny) / height
    return xs, ys


def tile_dataset(c: Collection, tile: Tile, q: TileQuery) -> tuple[xr.Dataset, AxisModel]:
    """The fields of a coverage tile on the tile's grid: Dataset (y, x) of float arrays (NaN = nodata)."""
    from ..render import map_values

    xs, ys = tile_grid(tile)
    inside = matrices.intersects(tile.crs84_bounds, extent84(c))
    if not inside:
        check_only(c, tile, q)
    data = {}
    for name in q.properties:
        if inside:
            values = np.asarray(map_values(c, map_request(tile, q, name)), dtype="float32")
        else:
            values = np.full((len(ys), len(xs)), np.nan, dtype="float32")
        info = c.variable_info(name)
        attrs = {k: v for k, v in (("units", info["units"]), ("standard_name", info["standard_name"]),
                                   ("long_name", info["long_name"])) if v}
        data[name] = xr.DataArray(values, dims=("y", "x"), attrs=attrs)
    crs = matrices.crs_of(tile.tms)
    ds = xr.Dataset(data, coords={"x": ("x", xs), "y": ("y", ys)})
    from ..select.reproject import _xy_attrs

    ds["x"].attrs, ds["y"].attrs = _xy_attrs(crs, "x"), _xy_attrs(crs, "y")
    axes = AxisModel(x="x", y="y", crs=crs, x_values=xs, y_values=ys)
    return ds, axes


def coverage_tile(c: Collection, tile: Tile, q: TileQuery) -> bytes:
    """GeoTIFF (one band per field) or NetCDF (CF grid mapping of the TMS CRS) bytes of one data tile."""
    from ..encode import geotiff, netcdf

    ds, axes = tile_dataset(c, tile, q)
    with tempfile.TemporaryDirectory(prefix="cubeserver-tile-") as tmp:
        if q.format == "geotiff":
            path = geotiff.write_geotiff(ds, axes, directory=tmp, cog=False)
        else:
            path = netcdf.write_netcdf(netcdf.with_grid_mapping(ds, axes.crs), directory=tmp)
        with open(path, "rb") as fh:
            body = fh.read()
        if os.path.exists(path):
            os.remove(path)
    return body
