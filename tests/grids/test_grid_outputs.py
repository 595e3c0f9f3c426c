"""Answers on grid-mapping files keep their CRS: NetCDF (CF grid mapping), GeoTIFF, Zarr, Coverages.

Re-opened with the clients users have (xarray + cf-xarray, pyproj's CRS.from_cf, rasterio), the
CRS must equal the source's own (`CRS.from_cf` of its grid-mapping variable) and the values the
source's values.
"""

from __future__ import annotations

import json

import cf_xarray  # noqa: F401
import numpy as np
import pytest
import rasterio
import xarray as xr
from pyproj import CRS, Transformer

from .conftest import CRS84, GRIDS, GRIDS_DIR, Native, covjson, interior_points, netcdf_answer as _nc, same_crs


def _as_source(got: xr.DataArray, source: xr.DataArray) -> xr.DataArray:
    """The answer without the length-1 axes a scalar time coordinate of the source became."""
    return got.isel({d: 0 for d in got.dims if d not in source.dims and got.sizes[d] == 1})


def _crs_of(ds: xr.Dataset, var: str) -> CRS:
    name = ds[var].attrs.get("grid_mapping") or ds[var].encoding.get("grid_mapping")
    assert name in ds.variables, f"{var} names grid mapping {name!r}, which the file lacks"
    return CRS.from_cf(ds[name].attrs)


@pytest.mark.parametrize("cid", list(GRIDS))
def test_edr_netcdf_keeps_the_grid_mapping(grids_client, tmp_path, cid):
    g = GRIDS[cid]
    src = g.source()
    nat = Native(g, src)
    lon, lat = interior_points(nat, 1, seed=21)[0]
    d = 3 * nat.cell_deg
    ds = _nc(grids_client, tmp_path, f"/collections/{cid}/cube", bbox=f"{lon - d},{lat - d / 2},{lon + d},{lat + d / 2}",
             f="NetCDF", **{"parameter-name": g.var})
    assert same_crs(_crs_of(ds, g.var), nat.crs)
    field = g.field(src) if not g.fixed else src[g.var]
    exp = field.sel({g.x: ds[g.x].values, g.y: ds[g.y].values})
    got = _as_source(ds[g.var], exp)
    np.testing.assert_allclose(got.values, exp.transpose(*got.dims).values, equal_nan=True)
    # a point answer too: the grid mapping describes its x/y
    ds = _nc(grids_client, tmp_path, f"/collections/{cid}/position", coords=f"POINT({lon} {lat})", f="NetCDF",
             **{"parameter-name": g.var})
    assert same_crs(_crs_of(ds, g.var), nat.crs)


def test_netcdf_bounds_are_subset_with_the_data(grids_client, tmp_path):
    g = GRIDS["hh"]
    src = xr.open_dataset(g.path)
    ds = _nc(grids_client, tmp_path, "/collections/hh/coverage", subset="grid_latitude(-0.1:-0.09)", f="netcdf")
    lat = ds.grid_latitude.values
    assert ds.grid_latitude.attrs.get("bounds") == "grid_latitude_bnds" or \
        ds.grid_latitude.encoding.get("bounds") == "grid_latitude_bnds"
    np.testing.assert_allclose(ds.grid_latitude_bnds.values, src.grid_latitude_bnds.sel(grid_latitude=lat).values)
    assert "bnds" not in grids_client.get("/collections/hh/coverage/domainset").json()["generalGrid"]["axisLabels"]


@pytest.mark.parametrize("cid", ["toa", "ps"])
def test_geotiff_holds_the_projected_crs(grids_client, tmp_path, cid):
    r = grids_client.get(f"/collections/{cid}/coverage", params={"f": "geotiff"})
    assert r.status_code == 200, r.text[:300]
    (tmp_path / "a.tif").write_bytes(r.content)
    with rasterio.open(tmp_path / "a.tif") as tif:
        crs = CRS.from_wkt(tif.crs.to_wkt())
        band = tif.read(1)
        transform = tif.transform
    if cid == "toa":
        src = xr.open_dataset(GRIDS["toa"].path)
        expected = CRS.from_cf(src.stereographic.attrs)
        field = src.data.values
        xs, ys = src.x.values, src.y.values
    else:
        src = xr.open_dataset(GRIDS_DIR / "polar_stereo.grib2", engine="cfgrib", backend_kwargs={"indexpath": ""})
        # independent of the server: pyproj from the file's own 2-D lat/lon and projection parameters
        expected = None
        field = src.t.values
    if expected is not None:
        assert same_crs(crs, expected)
        # north-up: the first row is the largest y
        rows = field if ys[0] > ys[-1] else field[::-1]
        np.testing.assert_allclose(band, rows, equal_nan=True)
        assert transform.c == pytest.approx(float(xs.min()) - abs(xs[1] - xs[0]) / 2, rel=1e-6)
    else:  # every pixel centre transforms back to the file's own latitude/longitude of that cell
        tr = Transformer.from_crs(crs, CRS84, always_xy=True)
        rows, cols = np.meshgrid(np.arange(band.shape[0]), np.arange(band.shape[1]), indexing="ij")
        px, py = rasterio.transform.xy(transform, rows.ravel(), cols.ravel())
        lon, lat = tr.transform(np.asarray(px), np.asarray(py))
        lat2d = src.latitude.values
        flipped = lat2d[::-1] if not np.allclose(lat.reshape(band.shape)[0], lat2d[0], atol=1e-3) else lat2d
        np.testing.assert_allclose(lat.reshape(band.shape), flipped, atol=1e-3)


def test_geotiff_of_a_rotated_pole_is_refused_or_reprojected(grids_client, tmp_path):
    r = grids_client.get("/collections/rp/coverage", params={"f": "geotiff"})
    assert r.status_code == 400 and r.json()["parameter"] == "f" and "EPSG/0/4326" in r.json()["detail"]
    links = grids_client.get("/collections/rp").json()["links"]
    tif = [lk for lk in links if lk["type"].startswith("image/tiff")][0]
    assert "crs=" in tif["href"]
    r = grids_client.get("/collections/rp/coverage", params={"f": "geotiff", "crs": "EPSG:4326"})
    assert r.status_code == 200
    (tmp_path / "r.tif").write_bytes(r.content)
    with rasterio.open(tmp_path / "r.tif") as t:
        assert CRS.from_wkt(t.crs.to_wkt()).equals(CRS.from_epsg(4326))
        # a pixel inside the domain holds the source value of the rotated cell under it (nearest)
        g = GRIDS["rp"]
        nat = Native(g, g.source())
        band = t.read(1)
        row, col = band.shape[0] // 2, band.shape[1] // 2
        lon, lat = rasterio.transform.xy(t.transform, row, col)
        assert band[row, col] == pytest.approx(float(nat.nearest(lon, lat)), rel=1e-6)


def test_coverages_subset_on_native_rotated_axes(grids_client, tmp_path):
    g = GRIDS["rp"]
    src = g.source()
    ds = _nc(grids_client, tmp_path, "/collections/rp/coverage", subset="grid_latitude(-5:5)", f="netcdf")
    exp = src[g.var].sel(grid_latitude=slice(-5, 5))
    np.testing.assert_allclose(_as_source(ds[g.var], exp).values, exp.values)
    # rotated degrees written -180..180 also find a 0..360-stored grid
    ds = _nc(grids_client, tmp_path, "/collections/rp/coverage", subset="grid_longitude(-10:10)", f="netcdf")
    exp = src[g.var].sel(grid_longitude=slice(350, 370))
    np.testing.assert_allclose(_as_source(ds[g.var], exp).values, exp.values)
    # Lon/Lat on a rotated coverage are degrees of longitude/latitude (CRS84), like bbox
    a = covjson(grids_client, "/collections/rp/coverage", subset="Lon(-5:5),Lat(45:55)")
    b = covjson(grids_client, "/collections/rp/coverage", bbox="-5,45,5,55")
    assert a["domain"]["axes"] == b["domain"]["axes"]


def test_covjson_referencing_names_the_native_crs(grids_client):
    cov = covjson(grids_client, "/collections/toa/coverage", **{"scale-factor": "8"})
    system = cov["domain"]["referencing"][0]["system"]
    src = xr.open_dataset(GRIDS["toa"].path)
    assert system["type"] == "ProjectedCRS" and same_crs(system["wkt"], CRS.from_cf(src.stereographic.attrs))
    cov = covjson(grids_client, "/collections/c01/position", coords="POINT(13.4 52.5)")
    assert cov["domain"]["referencing"][0]["system"]["type"] == "GeographicCRS"  # no crs: CRS84, the extent's
    native = cov_native = grids_client.get("/collections/c01").json()["storageCrs"]
    cov_native = covjson(grids_client, "/collections/c01/position", coords="POINT(-3 2)", crs=native)
    assert cov_native["domain"]["referencing"][0]["system"]["type"] == "ProjectedCRS"  # rotated x/y are not lon/lat


@pytest.mark.parametrize("cid", ["rp", "toa", "hh"])
def test_zarr_endpoint_keeps_the_grid_mapping(grids_client, cid):
    g = GRIDS[cid]
    meta = json.loads(grids_client.get(f"/collections/{cid}/zarr/.zmetadata").content)["metadata"]
    assert meta[f"{g.var}/.zattrs"]["grid_mapping"] == g.mapping
    attrs = {k: v for k, v in meta[f"{g.mapping}/.zattrs"].items() if not k.startswith("_")}
    src = g.source()
    assert same_crs(CRS.from_cf(attrs), g.crs(src))
    assert g.mapping in meta[".zattrs"].get("coordinates", "").split() or \
        g.mapping in meta[f"{g.var}/.zattrs"].get("coordinates", "").split()


def test_scaled_netcdf_drops_bounds_of_scaled_axes(grids_client, tmp_path):
    src = xr.open_dataset(GRIDS["hh"].path)
    ds = _nc(grids_client, tmp_path, "/collections/hh/coverage", **{"scale-factor": "2"}, f="netcdf")
    assert ds.sizes["grid_latitude"] == src.sizes["grid_latitude"] // 2
    assert "grid_latitude_bnds" not in ds.variables and "bounds" not in ds.grid_latitude.attrs
    np.testing.assert_allclose(ds.level_height_bnds.values, src.level_height_bnds.values)  # levels not scaled


def test_process_bbox_on_a_rotated_grid(grids_client, cases):
    """Processes select through the same engine: a lon/lat bbox on c01 gives the cube query's cells."""
    from tests.processes.test_library import grid as run_grid

    out, _ = run_grid(grids_client, "temporal-aggregate", {
        "collection": "c01", "variables": "tas", "reducer": "max", "bbox": [10, 50, 16, 54]})
    cube = covjson(grids_client, "/collections/c01/cube", bbox="10,50,16,54", datetime="2000-01-03T00:00:00Z")
    assert list(out.rlon.values) == cube["domain"]["axes"]["x"]["values"]
    assert list(out.rlat.values) == cube["domain"]["axes"]["y"]["values"]
    src = xr.open_dataset(cases / "c01_rotated_pole.nc")
    exp = src.tas.max("time").sel(rlon=out.rlon, rlat=out.rlat)
    np.testing.assert_allclose(out.tas.values, exp.values)
    assert same_crs(_crs_of(out, "tas"), CRS.from_cf(src.rotated_pole.attrs))


def test_float32_rotated_axes_are_regular_in_the_domainset(grids_client):
    """hybrid_height.nc stores 0.0009° rotated longitudes near 359.6 as float32 (steps wobble by ~3%):
    still a regular axis with the step from its first and last values."""
    src = xr.open_dataset(GRIDS["hh"].path)
    dom = grids_client.get("/collections/hh/coverage/domainset", params={"f": "json"}).json()
    axes = {a["axisLabel"]: a for a in dom["generalGrid"]["axis"]}
    x = next(a for label, a in axes.items() if label == "grid_longitude")
    assert x["type"] == "RegularAxisType"
    lon = src.grid_longitude.values.astype("float64")
    assert x["resolution"] == pytest.approx((lon[-1] - lon[0]) / (lon.size - 1), rel=1e-9)
