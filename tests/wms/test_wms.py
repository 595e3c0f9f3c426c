"""WMS 1.3.0 with real clients (OWSLib WebMapService, GDAL's WMS and OGCAPI drivers) and every exception code.

Values are checked against the source files (xarray .sel nearest / a KD-tree on the sphere), never against
the server's own numbers.
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import requests
import xarray as xr

from tests.conftest import DATASETS, serve_in_thread
from tests.tiles.sources import expected_colours, lonlat_cells, nearest_on_sphere, rgba

OGC = "{http://www.opengis.net/ogc}"


@pytest.fixture(scope="module")
def base(app, client):
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def wms(base):
    from owslib.wms import WebMapService

    return WebMapService(f"{base}/wms", version="1.3.0", timeout=120)


def test_owslib_reads_every_layer_with_dimensions_and_styles(wms, client):
    """Every gridded collection's variables are layers `collection/variable`; eraint's elevation values and
    hadcm3's time steps are the source's; CRS:84, EPSG:4326 and EPSG:3857 are offered; styles carry legends."""
    for c in client.get("/collections").json()["collections"]:
        if c.get("layerDataType") != "Coverage" or c["id"].startswith("job-"):
            continue
        names = client.get(f"/collections/{c['id']}").json().get("parameter_names", {})
        for v in names:
            assert f"{c['id']}/{v}" in wms.contents, f"{c['id']}/{v}"
    era = wms["eraint/z"]
    src = xr.open_dataset(DATASETS / "eraint_uvz.nc")
    assert [float(v) for v in era.dimensions["elevation"]["values"]] == [float(v) for v in src.level.values]
    assert {"CRS:84", "EPSG:4326", "EPSG:3857"} <= set(era.crsOptions)
    a1b = xr.open_dataset(DATASETS / "grids/A1B_north_america.nc", decode_times=False)
    hadcm3 = wms[[k for k in wms.contents if k.startswith("hadcm3-a1b/")][0]]
    times = hadcm3.dimensions["time"]["values"]
    assert len(times) == a1b.sizes["time"]
    w, s, e, n = hadcm3.boundingBoxWGS84
    lon = a1b.longitude.values
    assert s <= float(a1b.latitude.min()) and n >= float(a1b.latitude.max())
    style = wms["coads/SST"].styles["default"]
    r = requests.get(style["legend"], timeout=60)
    assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert lon.size > 0 and w < e


def test_getmap_epsg4326_is_lat_lon_and_matches_the_source(wms, client):
    """OWSLib GetMap in EPSG:4326 (BBOX lat,lon per WMS 1.3.0) gives the same image as CRS:84 with lon,lat; its
    pixels are transparent exactly over source nodata and otherwise the colormap of the source value there."""
    # OWSLib takes the bbox x,y (lon,lat) and sends it lat,lon for EPSG:4326 itself
    img = wms.getmap(layers=["coads/SST"], styles=[""], srs="EPSG:4326", bbox=(-60, 0, 40, 60), size=(200, 120),
                     format="image/png", transparent=True)
    a = img.read()
    b = client.get("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=coads/SST&STYLES=&CRS=CRS:84"
                   "&BBOX=-60,0,40,60&WIDTH=200&HEIGHT=120&FORMAT=image/png&TRANSPARENT=TRUE").content
    assert a == b
    px = rgba(a)
    assert px.shape == (120, 200, 4)
    lon = -60 + (np.arange(200) + 0.5) * 100 / 200
    lat = 60 - (np.arange(120) + 0.5) * 60 / 120
    glon, glat = np.meshgrid(lon, lat)
    lon2d, lat2d, values = lonlat_cells("coads_sst.nc", "SST")
    want, clear, _ = nearest_on_sphere(lon2d, lat2d, values, glon, glat)
    land, sea = clear & ~np.isfinite(want), clear & np.isfinite(want)
    assert (px[..., 3][land] == 0).mean() > 0.99
    legend = client.get("/wms?SERVICE=WMS&REQUEST=GetLegendGraphic&LAYER=coads/SST&FORMAT=application/json").json()
    colours = expected_colours(want[sea], legend["colormap"], *legend["range"])
    assert (np.abs(px[sea].astype(int) - colours.astype(int)).max(axis=1) <= 1).mean() > 0.99


def test_getmap_dimensions_formats_and_layers(client):
    """ELEVATION and DIM_MONTH change the picture; JPEG/WebP; two layers composite; BGCOLOR fills nodata."""
    q = ("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=eraint/z&STYLES=&CRS=EPSG:3857"
         "&BBOX=-20000000,-15000000,20000000,15000000&WIDTH=128&HEIGHT=96&FORMAT=image/png")
    a, b = client.get(q + "&ELEVATION=200"), client.get(q + "&ELEVATION=850")
    assert a.status_code == b.status_code == 200 and a.content != b.content
    assert client.get(q + "&ELEVATION=200&DIM_MONTH=1").content != client.get(q + "&ELEVATION=200&DIM_MONTH=7").content
    j = client.get(q.replace("image/png", "image/jpeg"))
    assert j.headers["content-type"] == "image/jpeg" and j.content[:3] == b"\xff\xd8\xff"
    two = client.get(q.replace("LAYERS=eraint/z", "LAYERS=coads/SST,eraint/u").replace("STYLES=", "STYLES=,"))
    assert two.status_code == 200 and rgba(two.content).shape == (96, 128, 4)
    part = client.get("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=hrdps/t&STYLES=&CRS=CRS:84"
                      "&BBOX=-180,10,-30,80&WIDTH=60&HEIGHT=28&FORMAT=image/png&TRANSPARENT=FALSE&BGCOLOR=0xFF0000")
    px = rgba(part.content)
    red = (px[..., 0] == 255) & (px[..., 1] == 0) & (px[..., 2] == 0)
    assert red[:, :5].all() and not red[14, 35]  # west of the HRDPS domain: the background; inside: data
    assert (px[..., 3] == 255).all()


def test_getfeatureinfo_json_and_html_values_and_time_series(wms, client):
    """GetFeatureInfo at pixel (I, J): the value of the source cell under the pixel centre (latest time step);
    a TIME range gives that cell's whole series; HTML shows the value."""
    src = xr.open_dataset(DATASETS / "coads_sst.nc")
    bbox_lonlat = (-180, -60, 180, 60)  # OWSLib sends it as lat,lon (EPSG:4326 in WMS 1.3.0)
    width, height, i, j = 360, 120, 190, 40
    lon = -180 + (i + 0.5) * 360 / width
    lat = 60 - (j + 0.5) * 120 / height
    r = wms.getfeatureinfo(layers=["coads/SST"], query_layers=["coads/SST"], srs="EPSG:4326", bbox=bbox_lonlat,
                           size=(width, height), format="image/png", xy=(i, j), info_format="application/json",
                           styles=[""])
    import json

    doc = json.loads(r.read())
    props = doc["features"][0]["properties"]
    x = src.COADSX.values
    cell = src.SST.isel(COADSX=int(np.argmin(np.abs((x - lon + 180) % 360 - 180))),
                        COADSY=int(np.argmin(np.abs(src.COADSY.values - lat))))
    assert props["value"] == pytest.approx(float(cell.isel(TIME=-1)), rel=1e-6)
    series = client.get(f"/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=coads/SST&QUERY_LAYERS=coads/SST"
                        f"&STYLES=&CRS=EPSG:4326&BBOX=-60,-180,60,180&WIDTH={width}&HEIGHT={height}&I={i}&J={j}"
                        "&INFO_FORMAT=application/json&TIME=2000-01-01/2000-12-31").json()
    got = series["features"][0]["properties"]
    assert len(got["values"]) == src.sizes["TIME"] == len(got["times"])
    np.testing.assert_allclose(np.asarray(got["values"], dtype=float), cell.values.astype(float), rtol=1e-6)
    html = client.get(f"/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=coads/SST&QUERY_LAYERS=coads/SST"
                      f"&STYLES=&CRS=EPSG:4326&BBOX=-60,-180,60,180&WIDTH={width}&HEIGHT={height}&I={i}&J={j}"
                      "&INFO_FORMAT=text/html")
    assert html.headers["content-type"].startswith("text/html")
    assert f"{float(cell.isel(TIME=-1)):g}" in html.text


def test_getfeatureinfo_on_a_projected_grib(client):
    """HRDPS (polar stereographic GRIB) in EPSG:3857: the value of the source cell nearest the pixel centre."""
    from pyproj import Transformer

    minx, miny, maxx, maxy = -10_000_000, 5_000_000, -9_000_000, 6_000_000
    lon2d, lat2d, values = lonlat_cells("CMC_hrdps_continental_TMP_TGL_80_ps2.5km_2020102700_P005-00.grib2", "t")
    checked = 0
    for i, j in ((37, 61), (12, 80), (70, 15), (50, 50), (90, 33), (5, 5), (22, 47), (64, 88), (81, 71), (44, 9)):
        r = client.get(f"/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=hrdps/t&QUERY_LAYERS=hrdps/t"
                       f"&STYLES=&CRS=EPSG:3857&BBOX={minx},{miny},{maxx},{maxy}&WIDTH=100&HEIGHT=100&I={i}&J={j}"
                       "&INFO_FORMAT=application/json").json()
        x, y = minx + (i + 0.5) * 10_000, maxy - (j + 0.5) * 10_000
        lon, lat = Transformer.from_crs("EPSG:3857", "OGC:CRS84", always_xy=True).transform(x, y)
        want, clear, _ = nearest_on_sphere(lon2d, lat2d, values, np.array([lon]), np.array([lat]))
        if clear[0]:  # an unambiguous nearest cell (a pixel centre near a cell edge could go either way)
            assert r["features"][0]["properties"]["value"] == pytest.approx(float(want[0]), rel=1e-6)
            checked += 1
    assert checked >= 3


def _exception(client, query: str):
    r = client.get("/wms?" + query)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(r.content)
    assert root.tag == f"{OGC}ServiceExceptionReport"
    exc = root.find(f"{OGC}ServiceException")
    return exc.get("code"), exc.get("locator"), exc.text


MAP = "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=coads/SST&STYLES=&CRS=EPSG:4326&BBOX=-90,-180,90,180&WIDTH=64&HEIGHT=32&FORMAT=image/png"
INFO = MAP.replace("GetMap", "GetFeatureInfo") + "&QUERY_LAYERS=coads/SST&INFO_FORMAT=application/json&I=10&J=10"


@pytest.mark.parametrize("query,code,locator", [
    (MAP.replace("image/png", "image/gif"), "InvalidFormat", "FORMAT"),
    (MAP.replace("EPSG:4326", "EPSG:99999"), "InvalidCRS", "CRS"),
    (MAP.replace("coads/SST", "coads/nope"), "LayerNotDefined", "LAYERS"),
    (MAP.replace("coads/SST", "nope/SST"), "LayerNotDefined", "LAYERS"),
    (MAP.replace("STYLES=", "STYLES=nope"), "StyleNotDefined", "STYLES"),
    (MAP.replace("STYLES=", "STYLES=,"), "StyleNotDefined", "STYLES"),
    (MAP + "&TIME=1990-01-01", "InvalidDimensionValue", "TIME"),
    (MAP + "&TIME=2000-01-01/2000-06-01", "InvalidDimensionValue", "TIME"),
    (MAP + "&TIME=soon", "InvalidDimensionValue", "TIME"),
    (MAP.replace("coads/SST", "eraint/z") + "&ELEVATION=501", "InvalidDimensionValue", "ELEVATION"),
    (MAP.replace("coads/SST", "eraint/z") + "&ELEVATION=", "MissingDimensionValue", "ELEVATION"),
    (MAP.replace("coads/SST", "eraint/z") + "&DIM_MONTH=13", "InvalidDimensionValue", "DIM_MONTH"),
    (MAP.replace("coads/SST", "eraint/z") + "&DIM_MONTH=", "MissingDimensionValue", "DIM_MONTH"),
    (INFO.replace("I=10", "I=64"), "InvalidPoint", "I"),
    (INFO.replace("J=10", "J=-1"), "InvalidPoint", "J"),
    (INFO.replace("I=10", "I=x"), "InvalidPoint", "I"),
    (INFO.replace("&I=10", ""), "MissingParameterValue", "I"),
    (INFO.replace("application/json", "image/gif"), "InvalidFormat", "INFO_FORMAT"),
    ("SERVICE=WMS&REQUEST=GetStyles", "OperationNotSupported", "REQUEST"),
    ("SERVICE=WMS&REQUEST=GetLegendGraphic&LAYER=coads/SST&FORMAT=image/gif", "InvalidFormat", "FORMAT"),
    ("SERVICE=WMS&REQUEST=GetLegendGraphic&LAYER=coads/SST&STYLE=nope", "StyleNotDefined", "STYLES"),
    ("SERVICE=WMS&REQUEST=GetLegendGraphic&LAYER=nope", "LayerNotDefined", "LAYER"),
])
def test_service_exceptions(client, query, code, locator):
    got_code, got_locator, text = _exception(client, query)
    assert (got_code, got_locator) == (code, locator), text
    assert text and "/work" not in text and "Traceback" not in text


@pytest.mark.parametrize("query,locator", [
    (MAP.replace("BBOX=-90,-180,90,180", "BBOX=1,2,3"), "BBOX"),
    (MAP.replace("BBOX=-90,-180,90,180", "BBOX=90,-180,-90,180"), "BBOX"),
    (MAP.replace("WIDTH=64", "WIDTH=0"), "WIDTH"),
    (MAP.replace("HEIGHT=32", "HEIGHT=100000"), "HEIGHT"),
    (MAP.replace("&CRS=EPSG:4326", ""), "CRS"),
    (MAP + "&TRANSPARENT=maybe", "TRANSPARENT"),
    (MAP + "&BGCOLOR=red", "BGCOLOR"),
    ("SERVICE=WMS", "REQUEST"),
    ("SERVICE=WFS&REQUEST=GetCapabilities", "SERVICE"),
    (MAP.replace("VERSION=1.3.0", "VERSION=9.9"), "VERSION"),
])
def test_other_bad_parameters_name_the_parameter(client, query, locator):
    _, got_locator, text = _exception(client, query)
    assert got_locator == locator, text


def test_exceptions_blank_and_case_insensitive_names(client):
    """EXCEPTIONS=BLANK answers an empty image; parameter names are case-insensitive; /wms is not in OpenAPI."""
    r = client.get("/wms?" + MAP.replace("image/gif", "image/png").replace("coads/SST", "coads/nope") + "&EXCEPTIONS=BLANK")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    low = "&".join(f"{k.lower()}={v}" for k, v in (p.split("=", 1) for p in MAP.split("&")))
    assert client.get("/wms?" + low).status_code == 200
    assert "/wms" not in client.get("/openapi").json()["paths"]


gdal = pytest.mark.skipif(shutil.which("gdalinfo") is None, reason="GDAL command-line tools not installed")


def _run(args, tmp_path):
    out = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                         env={"GDAL_HTTP_TIMEOUT": "120", "CPL_VSIL_CURL_USE_HEAD": "NO", "PATH": "/usr/bin:/bin",
                              "GDAL_PAM_ENABLED": "NO"})
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@gdal
def test_gdal_wms_driver_reads_capabilities_and_a_layer(base, tmp_path):
    """gdalinfo WMS:...GetCapabilities lists our layers as subdatasets; gdal_translate of one gives an RGBA image."""
    info = _run(["gdalinfo", f"WMS:{base}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities"], tmp_path)
    assert "coads/SST" in info or "coads%2FSST" in info
    line = next(l for l in info.splitlines() if "_NAME=" in l and ("LAYERS=coads%2FSST" in l or "LAYERS=coads/SST" in l))
    name = line.split("=", 1)[1]
    target = tmp_path / "sst.tif"
    _run(["gdal_translate", "-outsize", "180", "90", name, str(target)], tmp_path)
    import rasterio

    with rasterio.open(target) as f:
        assert f.count >= 3 and f.width == 180
        assert f.read(1).any()


@gdal
def test_gdal_ogcapi_driver_reads_map_tiles(base, tmp_path):
    """GDAL's OGCAPI driver (API=TILES) follows tilesets-map -> tileset -> tiling scheme -> PNG tiles."""
    url = f"OGCAPI:{base}/collections/coads"
    info = _run(["gdalinfo", "-oo", "API=TILES", "-oo", "TILEMATRIXSET=WorldCRS84Quad", url], tmp_path)
    assert "Band 4" in info and ("WGS 84" in info or "CRS84" in info)
    target = tmp_path / "tiles.tif"
    _run(["gdal_translate", "-oo", "API=TILES", "-oo", "TILEMATRIXSET=WorldCRS84Quad", url, str(target)], tmp_path)
    import rasterio

    with rasterio.open(target) as f:
        alpha = f.read(4)
        assert 0.3 < (alpha > 0).mean() < 0.95  # ocean drawn, land transparent
