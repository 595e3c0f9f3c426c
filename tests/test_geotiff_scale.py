"""Packed GeoTIFF bands (GDAL scale/offset, nodata) are served as their physical values in every API.

Truth is computed independently on the source file: `rioxarray.open_rasterio(mask_and_scale=True)`
and rasterio's raw counts times the band's own scale plus offset. Case c13 (../shared/cases):
int16 NDVI with scale 0.001 and nodata -32768; the cell at lon 11.25, lat 46.75 holds -406 -> -0.406.
"""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import pytest
import rasterio
import rioxarray
import xarray as xr
from PIL import Image
from rasterio.transform import from_origin

from tests.conftest import DATASETS, serve_in_thread

LON, LAT = 11.25, 46.75
POLY = "POLYGON((10.9 45.4,13.1 45.4,13.1 47.1,10.9 47.1,10.9 45.4))"
gdal = pytest.mark.skipif(shutil.which("gdalinfo") is None or shutil.which("gdallocationinfo") is None,
                          reason="GDAL command-line tools are not installed")


def _truth_bands(path) -> list[np.ndarray]:
    """Per band: raw counts * scale + offset, NaN where the band's nodata is (rasterio, no cubeserver)."""
    with rasterio.open(path) as src:
        out = []
        for i in range(src.count):
            raw = src.read(i + 1).astype("float64")
            if src.nodatavals[i] is not None:
                raw[raw == src.nodatavals[i]] = np.nan
            out.append(raw * src.scales[i] + src.offsets[i])
        return out


@pytest.fixture(scope="module")
def files(cases, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scaled")
    multi = tmp / "multi.tif"  # 3 int16 bands, each with its own scale and offset (GeoTIFF: one nodata per file)
    rng = np.random.default_rng(7)
    data = rng.integers(-2000, 2000, size=(3, 5, 6)).astype("int16")
    data[:, 0, 0] = -9999  # the file's nodata
    prof = dict(driver="GTiff", height=5, width=6, count=3, dtype="int16", crs="EPSG:4326",
                transform=from_origin(5.0, 50.0, 0.25, 0.25), nodata=-9999)
    with rasterio.open(multi, "w", **prof) as dst:
        dst.write(data)
        dst.scales = (0.01, 0.5, 1.0)
        dst.offsets = (273.15, -10.0, 0.0)
    return {"ndvi": cases / "c13_ndvi_scaled.tif", "multi": multi, "tmp": tmp}


@pytest.fixture(scope="module")
def app(files):
    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    raw = {"state_dir": str(files["tmp"] / "state"),
           "collections": {"ndvi": {"path": str(files["ndvi"])}, "multi": {"path": str(files["multi"])},
                           "rgb": {"path": str(DATASETS / "RGB.byte.tif")}}}
    return create_app(config_from_dict(raw, files["tmp"]))


@pytest.fixture(scope="module")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def base_url(app):
    """The same app behind a real socket, for clients that speak HTTP themselves (xarray's Zarr)."""
    with serve_in_thread(app) as base:
        yield base


def _decoded(path) -> xr.DataArray:
    """The independent truth: rioxarray's own decoding of the source, band 1 on (y, x)."""
    return rioxarray.open_rasterio(path, mask_and_scale=True).sel(band=1, drop=True)


def _nulls(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype="float64")


def test_source_truth_is_minus_0406(files):
    cell = _decoded(files["ndvi"]).sel(x=LON, y=LAT, method="nearest")
    assert float(cell) == pytest.approx(-0.406, rel=1e-6)


def test_edr_position_gives_the_scaled_value(client, files):
    truth = float(_decoded(files["ndvi"]).sel(x=LON, y=LAT, method="nearest"))
    r = client.get("/collections/ndvi/position", params={"coords": f"POINT({LON} {LAT})"})
    assert r.status_code == 200, r.text
    rng = r.json()["ranges"]["band_1"]
    assert rng["dataType"] == "float"
    assert rng["values"][0] == pytest.approx(truth, rel=1e-6) and rng["values"][0] == pytest.approx(-0.406, rel=1e-6)


@pytest.mark.parametrize("fmt", ["csv", "geojson", "netcdf"])
def test_edr_position_other_formats(client, fmt, tmp_path):
    r = client.get("/collections/ndvi/position", params={"coords": f"POINT({LON} {LAT})", "f": fmt})
    assert r.status_code == 200, r.text
    if fmt == "csv":
        value = float(r.text.splitlines()[1].split(",")[-1])
    elif fmt == "geojson":
        value = r.json()["features"][0]["properties"]["band_1"]
    else:
        (tmp_path / "p.nc").write_bytes(r.content)
        with xr.open_dataset(tmp_path / "p.nc") as ds:
            value = float(ds["band_1"].values.ravel()[0])
    assert value == pytest.approx(-0.406, rel=1e-6)


def test_edr_area_and_cube_equal_the_decoded_source_with_nodata_null(client, files):
    truth = _decoded(files["ndvi"])
    r = client.get("/collections/ndvi/area", params={"coords": POLY})
    assert r.status_code == 200, r.text
    doc = r.json()
    got = _nulls(doc["ranges"]["band_1"]["values"]).reshape(doc["ranges"]["band_1"]["shape"])
    ys = doc["domain"]["axes"]["y"]["values"]
    exp = truth.sel(y=ys).values
    np.testing.assert_allclose(got, exp, rtol=1e-6, equal_nan=True)
    assert np.isnan(got).sum() == 1  # the -32768 cell
    r = client.get("/collections/ndvi/cube", params={"bbox": "10.9,45.4,13.1,47.1"})
    assert r.status_code == 200, r.text
    cube = _nulls(r.json()["ranges"]["band_1"]["values"])
    np.testing.assert_allclose(np.sort(cube[~np.isnan(cube)]), np.sort(truth.values[~np.isnan(truth.values)]), rtol=1e-6)


def test_edr_cube_netcdf_decodes_to_the_source_values(client, files, tmp_path):
    truth = _decoded(files["ndvi"])
    r = client.get("/collections/ndvi/cube", params={"bbox": "10.9,45.4,13.1,47.1", "f": "netcdf"})
    assert r.status_code == 200, r.text
    (tmp_path / "cube.nc").write_bytes(r.content)
    with xr.open_dataset(tmp_path / "cube.nc") as ds:
        got = ds["band_1"].squeeze().sel(y=truth.y, x=truth.x)
        np.testing.assert_allclose(got.values, truth.values, rtol=1e-6, equal_nan=True)


def test_coverage_geotiff_reads_back_scaled_with_rasterio_rioxarray(client, tmp_path):
    r = client.get("/collections/ndvi/coverage", params={"f": "geotiff"})
    assert r.status_code == 200, r.text
    out = tmp_path / "ndvi.tif"
    out.write_bytes(r.content)
    with rasterio.open(out) as src:
        row, col = src.index(LON, LAT)
        raw = src.read(1, masked=True)
        value = raw[row, col] * src.scales[0] + src.offsets[0]
        assert float(value) == pytest.approx(-0.406, rel=1e-6)
        assert raw.mask.sum() == 1  # nodata stays nodata
    decoded = rioxarray.open_rasterio(out, mask_and_scale=True).sel(band=1)
    assert float(decoded.sel(x=LON, y=LAT, method="nearest")) == pytest.approx(-0.406, rel=1e-6)


@gdal
def test_gdal_reads_the_scaled_values(client, tmp_path, files):
    r = client.get("/collections/ndvi/coverage", params={"f": "geotiff"})
    out = tmp_path / "ndvi.tif"
    out.write_bytes(r.content)
    import json

    p = subprocess.run(["gdalinfo", "-stats", "-json", str(out)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    band = json.loads(p.stdout)["bands"][0]
    scale, offset = band.get("scale", 1.0), band.get("offset", 0.0)  # what `-unscale` would apply (GDAL >= 3.8)
    p = subprocess.run(["gdallocationinfo", "-valonly", "-wgs84", str(out), str(LON), str(LAT)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert float(p.stdout.strip()) * scale + offset == pytest.approx(-0.406, rel=1e-6)
    truth = _decoded(files["ndvi"]).values
    assert band["minimum"] * scale + offset == pytest.approx(np.nanmin(truth), rel=1e-6)
    assert band["maximum"] * scale + offset == pytest.approx(np.nanmax(truth), rel=1e-6)
    assert band["mean"] * scale + offset == pytest.approx(np.nanmean(truth), abs=1e-3)  # gdalinfo rounds the mean


def test_coverage_netcdf_decodes_with_xarray(client, files, tmp_path):
    r = client.get("/collections/ndvi/coverage", params={"f": "netcdf"})
    assert r.status_code == 200, r.text
    (tmp_path / "c.nc").write_bytes(r.content)
    truth = _decoded(files["ndvi"])
    with xr.open_dataset(tmp_path / "c.nc") as ds:  # mask_and_scale=True is xarray's default
        got = ds["band_1"].sel(y=truth.y, x=truth.x)
        np.testing.assert_allclose(got.values, truth.values, rtol=1e-6, equal_nan=True)
        assert float(ds["band_1"].sel(x=LON, y=LAT, method="nearest")) == pytest.approx(-0.406, rel=1e-6)
    with xr.open_dataset(tmp_path / "c.nc", mask_and_scale=False) as raw:  # the packing travels with the file
        assert raw["band_1"].dtype == np.int16 and raw["band_1"].attrs["scale_factor"] == pytest.approx(0.001)


def test_coverage_json_and_png(client, files):
    truth = _decoded(files["ndvi"]).values
    r = client.get("/collections/ndvi/coverage", params={"f": "json"})
    assert r.status_code == 200, r.text
    got = _nulls(r.json()["ranges"]["band_1"]["values"]).reshape(truth.shape)
    np.testing.assert_allclose(got, truth, rtol=1e-6, equal_nan=True)
    r = client.get("/collections/ndvi/coverage", params={"f": "png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    alpha = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))[..., 3]
    assert (alpha == 0).any() and (alpha == 255).any()  # the nodata cell is transparent, the rest drawn
    assert client.get("/collections/ndvi", params={"f": "html"}).status_code == 200


def test_zarr_endpoint_decodes_with_xarray(base_url, files):
    remote = xr.open_zarr(f"{base_url}/collections/ndvi/zarr")
    truth = _decoded(files["ndvi"])
    np.testing.assert_allclose(remote["band_1"].values, truth.values, rtol=1e-6, equal_nan=True)
    assert float(remote["band_1"].sel(x=LON, y=LAT, method="nearest")) == pytest.approx(-0.406, rel=1e-6)


def test_processes_work_on_decoded_values(client, files):
    truth = _decoded(files["ndvi"]).values
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "id": "all", "properties": {},
          "geometry": {"type": "Polygon", "coordinates": [[[10.9, 45.4], [13.1, 45.4], [13.1, 47.1], [10.9, 47.1],
                                                           [10.9, 45.4]]]}}]}
    r = client.post("/processes/zonal-statistics/execution",
                    json={"inputs": {"features": fc, "collection": "ndvi", "variable": "band_1"}, "response": "document"})
    assert r.status_code == 200, r.text
    row = r.json()["statistics"]["value"]["statistics"][0]
    assert row["count"] == np.isfinite(truth).sum() == 11
    assert row["min"] == pytest.approx(np.nanmin(truth), rel=1e-6) == pytest.approx(-0.406, rel=1e-6)
    assert row["max"] == pytest.approx(np.nanmax(truth), rel=1e-6)
    assert row["mean"] == pytest.approx(np.nanmean(truth), rel=1e-5)


def test_multiband_scale_offset_per_band(client, files, tmp_path):
    truth = _truth_bands(files["multi"])
    with rasterio.open(files["multi"]) as src:
        assert len(set(src.scales)) == 3 and len(set(src.offsets)) == 3  # really different per band
    r = client.get("/collections/multi/coverage", params={"f": "json"})
    assert r.status_code == 200, r.text
    ranges = r.json()["ranges"]
    for i, exp in enumerate(truth):
        got = _nulls(ranges[f"band_{i + 1}"]["values"]).reshape(exp.shape)
        np.testing.assert_allclose(got, exp, rtol=1e-6, equal_nan=True)
    r = client.get("/collections/multi/coverage", params={"f": "netcdf"})
    (tmp_path / "m.nc").write_bytes(r.content)
    with xr.open_dataset(tmp_path / "m.nc") as ds:
        for i, exp in enumerate(truth):
            np.testing.assert_allclose(ds[f"band_{i + 1}"].values, exp, rtol=1e-6, equal_nan=True)
    r = client.get("/collections/multi/coverage", params={"f": "geotiff"})
    (tmp_path / "m.tif").write_bytes(r.content)
    with rasterio.open(tmp_path / "m.tif") as src:
        for i, exp in enumerate(truth):
            band = src.read(i + 1, masked=True).astype("float64") * src.scales[i] + src.offsets[i]
            np.testing.assert_allclose(band.filled(np.nan), exp, rtol=1e-6, equal_nan=True)
    # rioxarray's mask_and_scale applies each band's own scale and offset too
    ref = rioxarray.open_rasterio(tmp_path / "m.tif", mask_and_scale=True)
    for i, exp in enumerate(truth):
        np.testing.assert_allclose(ref.values[i], exp, rtol=1e-6, equal_nan=True)


def test_byte_bands_without_scale_keep_their_integers(client):
    """RGB.byte.tif (uint8, nodata 0, no scale) is not decoded: its bytes are served as stored."""
    from pyproj import Transformer

    src = rioxarray.open_rasterio(DATASETS / "RGB.byte.tif", mask_and_scale=False).sel(band=1)
    rows, cols = np.nonzero(src.values > 0)
    row, col = rows[len(rows) // 2], cols[len(rows) // 2]  # a real pixel value in the middle of the scene
    lon, lat = Transformer.from_crs("EPSG:32618", "EPSG:4326", always_xy=True).transform(float(src.x[col]),
                                                                                       float(src.y[row]))
    r = client.get("/collections/rgb/position", params={"coords": f"POINT({lon} {lat})"})
    assert r.status_code == 200
    assert r.json()["ranges"]["band_1"]["values"][0] == int(src.values[row, col])
    with rasterio.open(DATASETS / "RGB.byte.tif") as f:
        assert f.scales == (1.0,) * 3 and f.offsets == (0.0,) * 3
    from cubeserver.sources import open_gridded

    assert open_gridded(DATASETS / "RGB.byte.tif", "geotiff")["band_1"].dtype == np.uint8  # served as stored


def test_packed_zarr_source_netcdf_answer_decodes_to_the_same_values(tmp_path):
    """mur-sst (int16 with scale_factor/add_offset): the NetCDF answer stays packed and decodes identically."""
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    raw = {"state_dir": str(tmp_path / "state"), "collections": {"sst": {"path": str(DATASETS / "analysed_sst.zarr")}}}
    src = xr.open_zarr(DATASETS / "analysed_sst.zarr", consolidated=False)
    name = "analysed_sst"
    sel = src[name].isel(time=0).sel(lat=slice(40.0, 40.5), lon=slice(-28.0, -27.5))
    with TestClient(create_app(config_from_dict(raw, tmp_path))) as c:
        r = c.get("/collections/sst/cube", params={"bbox": "-28,40,-27.5,40.5", "parameter-name": name, "f": "netcdf",
                                                   "datetime": str(sel.time.values)[:19] + "Z"})
        assert r.status_code == 200, r.text
    (tmp_path / "sst.nc").write_bytes(r.content)
    with xr.open_dataset(tmp_path / "sst.nc") as got, xr.open_dataset(tmp_path / "sst.nc", mask_and_scale=False) as packed:
        assert packed[name].dtype == src[name].encoding["dtype"]
        np.testing.assert_array_equal(got[name].squeeze().sel(lat=sel.lat, lon=sel.lon).values, sel.values)
