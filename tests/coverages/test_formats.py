"""GeoTIFF (and COG), NetCDF, CoverageJSON and PNG answers read back with independent readers."""

from __future__ import annotations

import io

import numpy as np
import pytest
import rasterio
from covjson_pydantic.coverage import Coverage, CoverageCollection
from matplotlib.image import imread
from rasterio.crs import CRS as RioCRS
from rasterio.transform import from_origin
from rasterio.windows import Window

from tests.conftest import DATASETS

from .conftest import GRIDS, geotiff, inside, netcdf, netcdf_raw


def get(client, cid, **params):
    r = client.get(f"/collections/{cid}/coverage", params=params)
    assert r.status_code == 200, r.text
    return r


# ------------------------------------------------------------------ GeoTIFF

@pytest.mark.parametrize("cid", ["landsat-rgb", "cogeo", "shade"])
def test_geotiff_window_equals_source_window(client, cid):
    with rasterio.open(DATASETS / GRIDS[cid].file) as src:
        xs = src.transform.c + (np.arange(src.width) + 0.5) * src.transform.a
        ys = src.transform.f + (np.arange(src.height) + 0.5) * src.transform.e
        qx, qy = 0.3 * abs(src.transform.a), 0.3 * abs(src.transform.e)  # bounds well away from cell centres
        lo_x, hi_x = xs[src.width // 4] - qx, xs[src.width // 2] + qx
        lo_y, hi_y = ys[src.height // 2] - qy, ys[src.height // 4] + qy
        ix, iy = inside(xs, lo_x, hi_x), inside(ys, lo_y, hi_y)
        window = Window(ix[0], iy[0], ix.size, iy.size)
        expected, transform, crs, nodata = src.read(window=window), src.window_transform(window), src.crs, src.nodata
    r = get(client, cid, subset=f"x({lo_x}:{hi_x}),y({lo_y}:{hi_y})", f="GTiff")
    assert r.headers["content-type"] == "image/tiff; application=geotiff"
    assert r.headers["content-disposition"] == f'attachment; filename="{cid}-coverage.tif"'
    tif = geotiff(r.content)
    np.testing.assert_array_equal(tif["data"], expected)
    assert tif["transform"].almost_equals(transform, precision=1e-6)
    assert tif["crs"] == crs
    assert tif["nodata"] == nodata


def test_geotiff_lonlat_grid_is_north_up_with_nan_nodata(client, sources):
    src = sources("coads").isel(TIME=2)  # 2000-03-17T02:58:12
    tif = geotiff(get(client, "coads", subset='COADSX(-10:20),COADSY(40:60),TIME("2000-03-17T02:58:12Z")', f="tif").content)
    assert tif["crs"] == RioCRS.from_epsg(4326)
    assert tif["transform"].almost_equals(from_origin(-10, 60, 2, 2))  # centres -9..19, 41..59
    assert np.isnan(tif["nodata"])
    exp = src.sel(COADSX=slice(-10, 20), COADSY=slice(40, 60))
    for i, v in enumerate(["SST", "AIRT", "UWND", "VWND"]):
        np.testing.assert_allclose(tif["data"][i], exp[v].values[::-1], equal_nan=True)
        assert tif["descriptions"][i] == f"{v} TIME=2000-03-17T02:58:12Z"
        assert tif["tags"][i]["field"] == v and tif["tags"][i]["units"] == src[v].attrs["units"]


def test_geotiff_one_band_per_field_and_time_step(client, sources):
    tif = geotiff(get(client, "coads", properties="SST,AIRT", datetime="2000-03-01/2000-06-01", f="geotiff").content)
    steps = ["2000-03-17T02:58:12Z", "2000-04-16T13:27:18Z", "2000-05-16T23:56:24Z"]
    assert list(tif["descriptions"]) == [f"{v} TIME={t}" for v in ("SST", "AIRT") for t in steps]
    src = sources("coads").sel(TIME=slice("2000-03-01", "2000-06-01"))
    np.testing.assert_allclose(tif["data"][4], src.AIRT.values[1][::-1], equal_nan=True)


def test_geotiff_reduces_unconstrained_axes_to_their_first_value(client, sources):
    tif = geotiff(get(client, "eraint", f="geotiff").content)
    assert list(tif["descriptions"]) == ["z month=1 level=200", "u month=1 level=200", "v month=1 level=200"]
    src = sources("eraint")
    np.testing.assert_allclose(tif["data"][1], src.u.sel(level=200, month=1).values, rtol=1e-6)  # latitude descends already
    assert tif["transform"].almost_equals(from_origin(-180.375, 90.375, 0.75, 0.75))


def test_geotiff_mixed_types_promoted(client):
    tif = geotiff(get(client, "mur-sst", f="geotiff", datetime="2005-12-01T09:00:00Z").content)
    assert tif["profile"]["dtype"] == "float64" and tif["profile"]["count"] == 4


def test_large_geotiff_is_cloud_optimized(client):
    tif = geotiff(get(client, "landsat-rgb", f="geotiff", **{"scale-size": "x(1200),y(1000)"}).content)
    assert tif["structure"].get("LAYOUT") == "COG"
    assert tif["overviews"], "a COG carries overviews"
    assert tif["profile"]["tiled"] and tif["data"].shape == (3, 1000, 1200)


def test_f_cog_forces_a_cog(client):
    tif = geotiff(get(client, "landsat-rgb", f="COG").content)  # 791x718: below the size that makes COGs
    assert tif["structure"].get("LAYOUT") == "COG"
    assert geotiff(get(client, "landsat-rgb", f="tif").content)["structure"].get("LAYOUT") != "COG"


def test_geotiff_after_scaling_keeps_extent(client):
    with rasterio.open(DATASETS / "RGB.byte.tif") as src:
        left, top = src.transform.c, src.transform.f
    tif = geotiff(get(client, "landsat-rgb", f="tif", **{"scale-factor": 2}).content)
    t = tif["transform"]
    assert (t.c, t.f) == pytest.approx((left, top))
    assert t.a == pytest.approx(2 * 300.0379266750948)


# ------------------------------------------------------------------ NetCDF

def test_netcdf_keeps_cf_metadata(client):
    r = get(client, "coads", subset="COADSX(-10:20)", f="NetCDF")
    assert r.headers["content-type"] == "application/x-netcdf"
    assert r.headers["content-disposition"] == 'attachment; filename="coads-coverage.nc"'
    raw = netcdf_raw(r.content)
    assert raw.SST.attrs["units"] == "Deg C" and raw.SST.attrs["long_name"] == "SEA SURFACE TEMPERATURE"
    assert raw.TIME.attrs["units"] == "hours since 2000-01-01" and raw.TIME.attrs["calendar"] == "proleptic_gregorian"
    assert raw.attrs["Conventions"].startswith("CF-")


def test_netcdf_keeps_a_non_standard_calendar(client, sources):
    r = get(client, "cmip5-pr", datetime="2050-01-01/2052-12-31", f="nc")
    raw = netcdf_raw(r.content)
    assert raw.time.attrs["calendar"] in ("365_day", "noleap")
    out = netcdf(r.content)
    assert [t.isoformat() for t in out.time.values] == ["2050-07-01T06:00:00", "2051-07-01T06:00:00", "2052-07-01T06:00:00"]
    assert out.pr.attrs["standard_name"] == "precipitation"


@pytest.mark.parametrize("cid, crs_word", [("landsat-rgb", "UTM zone 18N"), ("shade", "Pseudo-Mercator")])
def test_netcdf_projected_grid_has_a_grid_mapping(client, cid, crs_word):
    raw = netcdf_raw(get(client, cid, f="netcdf", **{"scale-factor": 4}).content)
    assert raw.band_1.attrs["grid_mapping"] == "spatial_ref"
    assert crs_word in raw.spatial_ref.attrs["crs_wkt"]


def test_netcdf_of_a_reprojection_has_a_grid_mapping(client):
    raw = netcdf_raw(get(client, "coads", f="netcdf", crs="EPSG:3857", properties="SST", datetime="2000-01-16T06:00:00Z").content)
    assert raw.SST.attrs["grid_mapping"] == "spatial_ref"
    assert "Pseudo-Mercator" in raw.spatial_ref.attrs["crs_wkt"]
    assert raw.COADSX.attrs["standard_name"] == "projection_x_coordinate"


# ------------------------------------------------------------------ CoverageJSON

def test_covjson_is_valid_and_equals_source(client, sources):
    r = get(client, "coads", subset='COADSX(-10:20),COADSY(40:60),TIME("2000-03-01":"2000-06-01")', properties="SST", f="covjson")
    assert r.headers["content-type"].startswith("application/prs.coverage+json")
    cov = Coverage.model_validate_json(r.content)
    assert cov.domain.domainType.value == "Grid"
    doc = r.json()
    exp = sources("coads").SST.sel(COADSX=slice(-10, 20), COADSY=slice(40, 60), TIME=slice("2000-03-01", "2000-06-01"))
    values = np.array([np.nan if v is None else v for v in doc["ranges"]["SST"]["values"]], dtype="float64")
    np.testing.assert_allclose(values.reshape(doc["ranges"]["SST"]["shape"]), exp.values, rtol=1e-6, equal_nan=True)
    assert doc["parameters"]["SST"]["unit"]["symbol"] == "Deg C"  # not a UCUM code: a plain symbol


def test_covjson_extra_dimension_becomes_a_collection(client):
    r = get(client, "eraint", subset="longitude(0:3),latitude(0:3),level(850)", f="covjson")
    coll = CoverageCollection.model_validate_json(r.content)
    assert [c.id for c in coll.coverages] == ["month=1", "month=7"]


def test_covjson_of_a_projected_grid(client):
    doc = get(client, "landsat-rgb", subset="x(150000:151000),y(2700000:2701000)", f="covjson").json()
    assert doc["domain"]["referencing"][0]["system"]["type"] == "ProjectedCRS"
    assert doc["domain"]["referencing"][0]["system"]["id"].endswith("/EPSG/0/32618")


# ------------------------------------------------------------------ PNG

def test_png_quicklook(client):
    r = get(client, "coads", f="png")
    assert r.headers["content-type"] == "image/png" and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    img = imread(io.BytesIO(r.content))
    assert img.shape == (270, 540, 4)  # a 180x90 grid enlarged 3x for readability
    assert (img[..., 3] == 0).any() and (img[..., 3] == 1).any()  # land transparent, sea opaque


def test_png_quicklook_colours_are_the_map_style(client):
    """One renderer: the quicklook colours each cell as the default map style (and its JSON legend) says."""
    from matplotlib import colormaps

    from ..conftest import open_source

    img = imread(io.BytesIO(get(client, "coads", f="png", properties="SST", subset='TIME("2000-01-16T06:00:00Z")',
                                **{"scale-size": "COADSX(180),COADSY(90)"}).content))
    legend = client.get("/collections/coads/styles/default/legend", params={"properties": "SST", "f": "json"}).json()
    lo, hi = legend["range"]
    sst = open_source("coads_sst.nc").SST.isel(TIME=0).values[::-1].astype("float64")  # north up
    assert img.shape[:2] == sst.shape
    sea = np.isfinite(sst)
    assert (img[..., 3][~sea] == 0).all() and (img[..., 3][sea] == 1).all()
    import cmocean  # noqa: F401  (registers its cmo.* colormaps with matplotlib)

    want = colormaps[legend["colormap"]](np.clip(np.floor((sst[sea] - lo) / (hi - lo) * 256), 0, 255).astype(int))
    want = want[:, :3]
    assert np.abs(img[..., :3][sea] - want).max() <= 1 / 255 + 1e-6


def test_png_respects_scaling_and_field(client):
    img = imread(io.BytesIO(get(client, "landsat-rgb", f="png", properties="band_2", **{"scale-size": "x(100),y(50)"}).content))
    assert img.shape == (50, 100, 4)
    assert np.allclose(img[..., 0], img[..., 1])  # 8-bit imagery in grey


# ------------------------------------------------------------------ negotiation

@pytest.mark.parametrize("f, media", [("GTiff", "image/tiff; application=geotiff"), ("TIF", "image/tiff; application=geotiff"),
                                      ("geotiff", "image/tiff; application=geotiff"), ("NetCDF", "application/x-netcdf"),
                                      ("COVJSON", "application/prs.coverage+json"), ("json", "application/prs.coverage+json"),
                                      ("PNG", "image/png")])
def test_f_is_case_insensitive(client, f, media):
    r = get(client, "shade", f=f, **{"scale-factor": 8})
    assert r.headers["content-type"].split(",")[0] == media


@pytest.mark.parametrize("accept, media", [("image/tiff; application=geotiff", "image/tiff; application=geotiff"),
                                           ("application/x-netcdf", "application/x-netcdf"), ("image/png", "image/png"),
                                           ("application/json", "application/prs.coverage+json"),
                                           ("*/*", "application/prs.coverage+json")])
def test_accept_header(client, accept, media):
    r = client.get("/collections/shade/coverage", params={"scale-factor": 8}, headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"] == media


def test_unsupported_formats(client):
    assert client.get("/collections/shade/coverage", params={"f": "csv"}).status_code == 400
    assert client.get("/collections/shade/coverage", headers={"Accept": "text/csv"}).status_code == 406
