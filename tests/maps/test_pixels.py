"""Rendered pixels against an independent computation: the source file read with xarray at the cell each
pixel centre falls in (pyproj for the CRS, a KD-tree on the sphere for 2-D lat/lon grids), coloured with
matplotlib's colormap and the configured range. Every grid kind: lon/lat, 0..360, Web Mercator output,
GRIB polar stereographic, CF stereographic, rotated pole, curvilinear (ORCA2)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from pyproj import CRS, Transformer

from tests.conftest import DATASETS, open_source

from .conftest import centres, colour, nearest_on_axis, rgba, sphere_nearest


def _compare(img: np.ndarray, expected_values: np.ndarray, checked: np.ndarray, cmap: str, vmin: float, vmax: float):
    """Every checked pixel: transparent where the source is nodata, else exactly matplotlib's colour."""
    want = colour(expected_values, cmap, vmin, vmax)
    nodata = checked & ~np.isfinite(expected_values)
    data = checked & np.isfinite(expected_values)
    assert data.sum() >= 50, "too few data pixels to judge"
    assert (img[nodata][:, 3] == 0).all(), "nodata must be transparent"
    bad = np.flatnonzero((img[data] != want[data]).any(axis=1))
    assert bad.size == 0, f"{bad.size} of {data.sum()} pixels differ, e.g. {img[data][bad[:3]]} vs {want[data][bad[:3]]}"
    return data.sum(), nodata.sum()


def test_lonlat_crs84_every_pixel_is_the_source_cell(client):
    """coads (lon/lat, 2 degree): default style from the bundled config (cmo.thermal, -2..30), latest step."""
    bbox, w, h = (-180, -90, 180, 90), 180, 90
    r = client.get(f"/collections/coads/map?properties=SST&bbox={','.join(map(str, bbox))}&width={w}&height={h}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    img = rgba(r.content)
    assert img.shape == (h, w, 4)
    src = open_source("coads_sst.nc")["SST"].isel(TIME=-1)
    xs, ys = centres(bbox, w, h)
    ix, okx, _ = nearest_on_axis(src["COADSX"].values.astype(float), xs)
    iy, oky, _ = nearest_on_axis(src["COADSY"].values.astype(float), ys)
    values = src.values[np.ix_(iy, ix)]
    n_data, n_nodata = _compare(img, values, oky[:, None] & okx[None, :], "cmo.thermal", -2, 30)
    assert n_nodata > 100  # land is there, and transparent


def test_0_360_grid_and_a_bbox_across_the_prime_meridian(styled_client):
    """basin mask stored 0.5..359.5: a -30..60 map takes both ends of the grid; first depth level by default."""
    bbox, w, h = (-30, -60, 60, 60), 90, 120
    r = styled_client.get(f"/collections/basin/map?bbox={','.join(map(str, bbox))}&width={w}&height={h}")
    assert r.status_code == 200
    src = open_source("basin_mask.nc")["basin"].isel(Z=0)
    xs, ys = centres(bbox, w, h)
    ix, okx, _ = nearest_on_axis(src["X"].values.astype(float), np.mod(xs, 360))
    iy, oky, _ = nearest_on_axis(src["Y"].values.astype(float), ys)
    values = src.values[np.ix_(iy, ix)].astype(float)
    _compare(rgba(r.content), values, oky[:, None] & okx[None, :], "viridis", 0, 60)


def test_bbox_across_the_antimeridian(styled_client):
    """minx > maxx in CRS84: 170E .. 170W drawn as one ascending band of longitudes."""
    bbox, w, h = (170, -20, -170, 20), 20, 40
    r = styled_client.get(f"/collections/basin/map?bbox={','.join(map(str, bbox))}&width={w}&height={h}")
    assert r.status_code == 200
    src = open_source("basin_mask.nc")["basin"].isel(Z=0)
    xs, ys = centres((170, -20, 190, 20), w, h)
    ix, okx, _ = nearest_on_axis(src["X"].values.astype(float), np.mod(xs, 360))
    iy, oky, _ = nearest_on_axis(src["Y"].values.astype(float), ys)
    _compare(rgba(r.content), src.values[np.ix_(iy, ix)].astype(float), oky[:, None] & okx[None, :], "viridis", 0, 60)


def test_web_mercator_pixels_land_on_the_right_cells(client):
    """EPSG:3857 output of a lon/lat grid: each pixel centre back to lon/lat with pyproj, then the source cell."""
    bbox, w, h = (-6e6, -4e6, 8e6, 7e6), 140, 110
    url = (f"/collections/coads/map?properties=SST&bbox={','.join(map(str, bbox))}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857"
           f"&crs=http://www.opengis.net/def/crs/EPSG/0/3857&width={w}&height={h}")
    r = client.get(url)
    assert r.status_code == 200
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/3857>"
    xs, ys = centres(bbox, w, h)
    X, Y = np.meshgrid(xs, ys)
    lon, lat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True).transform(X, Y)
    src = open_source("coads_sst.nc")["SST"].isel(TIME=-1)
    ix, okx, _ = nearest_on_axis(src["COADSX"].values.astype(float), lon.ravel())
    iy, oky, _ = nearest_on_axis(src["COADSY"].values.astype(float), lat.ravel())
    values = src.values[iy, ix].reshape(h, w)
    _compare(rgba(r.content), values, (okx & oky).reshape(h, w), "cmo.thermal", -2, 30)


def test_grib_polar_stereographic_in_crs84(styled_client):
    """HRDPS 2.5 km polar-stereographic GRIB drawn in lon/lat: compared with the nearest cell on the sphere
    from the GRIB's own 2-D latitude/longitude (cfgrib), never with the server's projection."""
    bbox, w, h = (-100, 40, -80, 55), 80, 60
    r = styled_client.get(f"/collections/hrdps/map?bbox={','.join(map(str, bbox))}&width={w}&height={h}")
    assert r.status_code == 200
    ds = xr.open_dataset(DATASETS / "CMC_hrdps_continental_TMP_TGL_80_ps2.5km_2020102700_P005-00.grib2", engine="cfgrib")
    lat, lon = ds["latitude"].values, ds["longitude"].values
    box = (lat > 38) & (lat < 57) & (((lon + 180) % 360 - 180) > -102) & (((lon + 180) % 360 - 180) < -78)
    jy, jx = np.nonzero(box)
    y0, y1, x0, x1 = jy.min(), jy.max() + 1, jx.min(), jx.max() + 1
    lat, lon = lat[y0:y1, x0:x1], lon[y0:y1, x0:x1]
    t = ds["t"].values[y0:y1, x0:x1]
    xs, ys = centres(bbox, w, h)
    X, Y = np.meshgrid(xs, ys)
    k, _, clear = sphere_nearest(lon, lat, X, Y)
    values = t.ravel()[k].reshape(h, w)
    _compare(rgba(r.content), values, clear.reshape(h, w), "viridis", 250, 300)


@pytest.mark.parametrize("cid, path, var, cmap, lo, hi, bbox", [
    ("rotated", "grids/rotated_pole.nc", "air_pressure_at_sea_level", "cmo.haline", 98000, 104000, (-100, 5, 80, 85)),
    ("stereo", "grids/toa_brightness_stereographic.nc", "data", "magma", 220, 320, (-120, 5, 60, 88)),
])
def test_cf_grid_mapping_grids_in_crs84(styled_client, cid, path, var, cmap, lo, hi, bbox):
    """Rotated pole and stereographic grids (CF grid_mapping): pixel centres to the grid's x/y with pyproj's
    own reading of the grid mapping (CRS.from_cf), then the nearest source cell."""
    w, h = 90, 60
    r = styled_client.get(f"/collections/{cid}/map?bbox={','.join(map(str, bbox))}&width={w}&height={h}")
    assert r.status_code == 200
    ds = open_source(path)
    da = ds[var].squeeze()
    gm = ds[da.attrs["grid_mapping"]]
    crs = CRS.from_cf(gm.attrs)
    xdim, ydim = da.dims[-1], da.dims[-2]
    xv, yv = ds[xdim].values.astype(float), ds[ydim].values.astype(float)
    xs, ys = centres(bbox, w, h)
    X, Y = np.meshgrid(xs, ys)
    nx, ny = Transformer.from_crs("OGC:CRS84", crs, always_xy=True).transform(X, Y)
    nx, ny = np.asarray(nx).ravel(), np.asarray(ny).ravel()
    if crs.is_geographic:  # rotated longitudes: into the grid's own frame (e.g. 313..390)
        centre = (xv.min() + xv.max()) / 2
        nx = nx + 360 * np.round((centre - nx) / 360)
    ix, okx, inx = nearest_on_axis(xv, nx)
    iy, oky, iny = nearest_on_axis(yv, ny)
    values = np.where(inx & iny, da.values[iy, ix], np.nan).reshape(h, w)
    img = rgba(r.content)
    outside = ~(inx & iny).reshape(h, w)
    assert outside.any() and (img[outside][:, 3] == 0).all(), "pixels off the grid are transparent"
    _compare(img, values, (okx & oky).reshape(h, w), cmap, lo, hi)


def test_curvilinear_orca2(styled_client):
    """ORCA2 (2-D nav_lat/nav_lon, tripolar): the nearest cell centre on the sphere; land (NaN) transparent."""
    bbox, w, h = (-80, -40, 40, 60), 120, 100
    r = styled_client.get(f"/collections/orca/map?bbox={','.join(map(str, bbox))}&width={w}&height={h}")
    assert r.status_code == 200
    ds = open_source("grids/orca2_votemper.nc")
    lon, lat = ds["nav_lon"].values.astype(float), ds["nav_lat"].values.astype(float)
    lon = np.where((lon == 0) & (lat == 0), np.nan, lon)
    v = ds["votemper"].squeeze().values
    xs, ys = centres(bbox, w, h)
    X, Y = np.meshgrid(xs, ys)
    k, d, clear = sphere_nearest(lon, lat, X, Y)
    near = d < np.radians(0.5)  # well inside the grid (ORCA2 cells are ~2 degrees)
    values = v.ravel()[k].reshape(h, w)
    _compare(rgba(r.content), values, (clear & near).reshape(h, w), "cmo.thermal", -2, 30)


def test_subset_level_and_extra_dimension(styled_client):
    """eraint u at level(500) and month(7) is exactly that slice; level 850 draws another picture."""
    bbox, w, h = (-180, -90, 180, 90), 180, 90
    base = f"/collections/era/map?properties=u&bbox={','.join(map(str, bbox))}&width={w}&height={h}"
    r = styled_client.get(base + "&subset=level(500),month(7)")
    assert r.status_code == 200
    src = open_source("eraint_uvz.nc")["u"].sel(level=500, month=7)
    xs, ys = centres(bbox, w, h)
    ix, okx, _ = nearest_on_axis(src["longitude"].values.astype(float), xs)
    iy, oky, _ = nearest_on_axis(src["latitude"].values.astype(float), ys)
    _compare(rgba(r.content), src.values[np.ix_(iy, ix)], oky[:, None] & okx[None, :], "RdBu_r", -40, 40)
    other = styled_client.get(base + "&subset=level(850),month(7)")
    assert other.status_code == 200 and not np.array_equal(rgba(other.content), rgba(r.content))
    also = styled_client.get(base + "&subset=z(500),month(7)")  # z names the vertical axis
    assert np.array_equal(rgba(also.content), rgba(r.content))


def test_datetime_selects_the_step_and_default_is_the_latest(client):
    src = open_source("coads_sst.nc")["SST"]
    times = src["TIME"].values
    bbox, w, h = (-180, -90, 180, 90), 180, 90
    base = f"/collections/coads/map?properties=SST&bbox={','.join(map(str, bbox))}&width={w}&height={h}"
    stamp = np.datetime_as_string(times[2].astype("datetime64[s]")) + "Z"
    r = client.get(base + f"&datetime={stamp}")
    assert r.status_code == 200
    xs, ys = centres(bbox, w, h)
    ix, okx, _ = nearest_on_axis(src["COADSX"].values.astype(float), xs)
    iy, oky, _ = nearest_on_axis(src["COADSY"].values.astype(float), ys)
    _compare(rgba(r.content), src.isel(TIME=2).values[np.ix_(iy, ix)], oky[:, None] & okx[None, :], "cmo.thermal", -2, 30)
    same = client.get(base + f"&subset=time(\"{stamp}\")")
    assert np.array_equal(rgba(same.content), rgba(r.content))
    latest = client.get(base)
    _compare(rgba(latest.content), src.isel(TIME=-1).values[np.ix_(iy, ix)], oky[:, None] & okx[None, :],
             "cmo.thermal", -2, 30)


def test_bilinear_matches_xarray_interp(styled_client):
    """resampling=bilinear: away from nodata, the values are xarray's linear interpolation of the source."""
    from cubeserver.render import MapRequest, map_values

    c = styled_client.app.state.ctx.registry.get("era")
    bbox, w, h = (-60.3, 20.1, 39.7, 70.1), 50, 25
    vals = map_values(c, MapRequest("z", bbox, width=w, height=h, subset={"level": 500, "month": 1}, resampling="bilinear"))
    src = open_source("eraint_uvz.nc")["z"].sel(level=500, month=1)
    xs, ys = centres(bbox, w, h)
    want = src.interp(longitude=xr.DataArray(xs, dims="x"), latitude=xr.DataArray(ys, dims="y")).transpose("y", "x")
    ok = np.isfinite(want.values)
    assert ok.sum() > 0.9 * ok.size
    np.testing.assert_allclose(vals[ok], want.values[ok], rtol=1e-6)
    nearest = map_values(c, MapRequest("z", bbox, width=w, height=h, subset={"level": 500, "month": 1}))
    assert not np.allclose(nearest, vals)  # it does interpolate


def test_nodata_background_and_jpeg(client):
    bbox = "-20,-40,60,40"
    plain = rgba(client.get(f"/collections/coads/map?properties=SST&bbox={bbox}&width=80&height=80").content)
    land = plain[..., 3] == 0
    assert 100 < land.sum() < land.size - 100
    opaque = rgba(client.get(f"/collections/coads/map?properties=SST&bbox={bbox}&width=80&height=80"
                             "&transparent=false&bgcolor=0x102030").content)
    assert (opaque[land] == [16, 32, 48, 255]).all() and (opaque[~land] == plain[~land]).all()
    r = client.get(f"/collections/coads/map?properties=SST&bbox={bbox}&width=80&height=80&f=jpeg&bgcolor=%23ff0000")
    assert r.headers["content-type"] == "image/jpeg"
    from PIL import Image
    import io

    jpg = Image.open(io.BytesIO(r.content))
    assert jpg.mode == "RGB"
    px = np.asarray(jpg).astype(int)
    inner = land.copy()  # away from coasts (JPEG blurs edges)
    for axis in (0, 1):
        inner &= np.roll(land, 1, axis) & np.roll(land, -1, axis)
    assert inner.sum() > 20
    assert (np.abs(px[inner] - [255, 0, 0]) < 40).all()
    webp = client.get(f"/collections/coads/map?properties=SST&bbox={bbox}&width=80&height=80&f=webp")
    assert webp.headers["content-type"] == "image/webp" and np.array_equal(rgba(webp.content), plain)
