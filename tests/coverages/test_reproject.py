"""crs= (output reprojection) and subset-crs, checked against rioxarray's own reproject of the source."""

from __future__ import annotations

import numpy as np
import pytest
import rioxarray
from pyproj import CRS, Transformer
from rasterio.crs import CRS as RioCRS

from tests.conftest import DATASETS

from .conftest import assert_error, geotiff, inside, netcdf

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@pytest.fixture(scope="module")
def landsat():
    return rioxarray.open_rasterio(DATASETS / "RGB.byte.tif").load()


def test_utm_scene_in_lonlat_equals_rioxarray(client, landsat):
    exp = landsat.rio.reproject("EPSG:4326")
    tif = geotiff(client.get("/collections/landsat-rgb/coverage", params={"crs": CRS84, "f": "geotiff"}).content)
    assert tif["crs"] == RioCRS.from_epsg(4326)
    assert tif["data"].shape == exp.shape
    assert tif["transform"].almost_equals(exp.rio.transform(), precision=1e-9)
    np.testing.assert_array_equal(tif["data"], exp.values)
    assert tif["nodata"] == 0


def test_subset_then_reproject_equals_rioxarray(client, landsat):
    xs, ys = landsat.x.values, landsat.y.values
    window = landsat.isel(x=inside(xs, 150000, 200000), y=inside(ys, 2700000, 2750000))
    exp = window.rio.reproject("EPSG:4326")
    out = netcdf(client.get("/collections/landsat-rgb/coverage", params={
        "subset": "x(150000:200000),y(2700000:2750000)", "crs": "EPSG:4326", "f": "netcdf"}).content)
    for i in range(3):
        got = out[f"band_{i + 1}"].values
        np.testing.assert_array_equal(np.nan_to_num(got, nan=0), exp.values[i])
    np.testing.assert_allclose(out.x.values, exp.x.values)
    np.testing.assert_allclose(out.y.values, exp.y.values)
    assert out.x.attrs["standard_name"] == "longitude"


def test_lonlat_grid_in_web_mercator_equals_rioxarray(client, sources):
    """EPSG:3857 output stops at the WebMercatorQuad square (±85.0511°, ±20037508.34 m), not EPSG's
    rounded ±85.06° plus half a cell; values equal rioxarray's warp of the cells inside onto that grid."""
    src = sources("coads").SST.isel(TIME=[0])
    limit = np.degrees(np.arctan(np.sinh(np.pi)))  # the latitude where Mercator y = ±pi R
    clipped = src.isel(COADSY=inside(src.COADSY.values, -limit, limit))
    tif = geotiff(client.get("/collections/coads/coverage", params={
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857", "properties": "SST", "datetime": "2000-01-16T06:00:00Z",
        "f": "tif"}).content)
    assert tif["crs"] == RioCRS.from_epsg(3857)
    t, (height, width) = tif["transform"], tif["data"].shape[-2:]
    top, bottom = t.f, t.f + height * t.e
    half = np.pi * 6378137.0
    assert top <= half * (1 + 1e-9) and bottom >= -half * (1 + 1e-9)
    assert top == pytest.approx(half, rel=1e-6)  # coads reaches 89°N: the answer fills the square
    lat_top = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True).transform(0, top)[1]
    assert lat_top <= 85.0512
    exp = (clipped.rename(COADSX="x", COADSY="y").rio.write_crs("EPSG:4326").rio.write_nodata(np.nan)
           .rio.reproject("EPSG:3857", shape=(height, width), transform=t))
    np.testing.assert_allclose(tif["data"][0], exp.values[0], equal_nan=True)


@pytest.mark.parametrize("f", ["netcdf", "covjson"])
def test_web_mercator_answers_stay_inside_the_square_in_every_format(client, f):
    r = client.get("/collections/coads/coverage", params={"crs": "EPSG:3857", "properties": "SST",
                                                          "datetime": "2000-01-16T06:00:00Z", "f": f})
    assert r.status_code == 200
    ys = netcdf(r.content).COADSY.values if f == "netcdf" else _covjson_axis(r.json(), "y")
    lat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True).transform(np.zeros_like(ys), ys)[1]
    assert np.nanmax(np.abs(lat)) < 85.0512


def _covjson_axis(doc, name):
    ax = doc["domain"]["axes"][name]
    if "values" in ax:
        return np.asarray(ax["values"], dtype="float64")
    return np.linspace(ax["start"], ax["stop"], ax["num"])


def test_0_360_grid_reprojects_across_the_antimeridian(client):
    r = client.get("/collections/basin-mask/coverage", params={"crs": "EPSG:3857", "subset": "Z(0)", "f": "tif"})
    tif = geotiff(r.content)
    t, width = tif["transform"], tif["data"].shape[-1]
    assert t.c == pytest.approx(-20037508.34, rel=1e-3) and t.c + width * t.a == pytest.approx(20037508.34, rel=1e-3)


def test_reprojected_covjson_names_its_crs(client):
    doc = client.get("/collections/shade/coverage", params={"crs": CRS84, "scale-factor": 8, "f": "covjson"}).json()
    assert doc["domain"]["referencing"][0]["system"] == {"type": "GeographicCRS", "id": CRS84}


def test_subset_crs_lonlat_on_the_utm_scene(client, landsat):
    a = client.get("/collections/landsat-rgb/coverage", params={
        "subset": "Lon(-78.5:-78.0),Lat(24.0:24.5)", "subset-crs": CRS84, "f": "covjson"}).json()
    b = client.get("/collections/landsat-rgb/coverage", params={"bbox": "-78.5,24.0,-78.0,24.5", "f": "covjson"}).json()
    assert a["domain"]["axes"] == b["domain"]["axes"]


def test_lon_lat_labels_on_a_projected_coverage_are_degrees(client):
    a = client.get("/collections/landsat-rgb/coverage", params={"subset": "Lon(-78.5:-78.0),Lat(24.0:24.5)", "f": "covjson"})
    b = client.get("/collections/landsat-rgb/coverage", params={"bbox": "-78.5,24.0,-78.0,24.5", "f": "covjson"})
    assert a.json()["domain"]["axes"] == b.json()["domain"]["axes"]
    r = client.get("/collections/landsat-rgb/coverage", params={"subset": "Lon(-78.5:-78.0),y(2700000:2750000)"})
    assert_error(r, 400, "subset", "degrees")


@pytest.mark.parametrize("param", ["crs", "bbox-crs", "subset-crs"])
@pytest.mark.parametrize("value", ["EPSG:999999", "not-a-crs"])
def test_bad_crs_is_400(client, param, value):
    params = {param: value}
    if param == "bbox-crs":
        params["bbox"] = "0,0,1,1"
    assert_error(client.get("/collections/coads/coverage", params=params), 400, param, "unknown CRS")


def _tif_shape(client, cid, **params):
    import rasterio

    r = client.get(f"/collections/{cid}/coverage", params={"f": "geotiff", **params})
    assert r.status_code == 200, r.text[:300]
    with rasterio.MemoryFile(r.content) as mem, mem.open() as src:
        return src.width, src.height, src.crs


def test_scale_size_with_crs_sizes_the_output_grid(client):
    """scale-size=x(100),y(80) with crs= is 100 x 80 output cells (scaling the source first gave 111 x 92)."""
    w, h, crs = _tif_shape(client, "landsat-rgb", crs="EPSG:4326", **{"scale-size": "x(100),y(80)"})
    assert (w, h) == (100, 80) and crs.to_epsg() == 4326
    w, h, _ = _tif_shape(client, "rotated-pole", crs="EPSG:4326", **{"scale-size": "grid_longitude(10),grid_latitude(7)"})
    assert (w, h) == (10, 7)


def test_scale_factor_with_crs_divides_the_reprojected_grid(client):
    w0, h0, _ = _tif_shape(client, "landsat-rgb", crs="EPSG:4326")
    w, h, _ = _tif_shape(client, "landsat-rgb", crs="EPSG:4326", **{"scale-factor": "4"})
    assert (w, h) == (round(w0 / 4), round(h0 / 4))
