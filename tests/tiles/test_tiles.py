"""OGC API - Tiles on the bundled data: tile matrix sets, tileset metadata, map and coverage tiles.

Values are checked against the source files (tests.tiles.sources: xarray + pyproj + a KD-tree on
the sphere), tile bounds against morecantile, limits against the Web Mercator tile formula.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import rasterio

from tests.tiles.sources import (expected_colours, lonlat_cells, nearest_on_sphere, rgba, tile_pixel_lonlat)

WMQ, CRS84Q = "WebMercatorQuad", "WorldCRS84Quad"


def test_tile_matrix_sets_list_and_definitions(client):
    """/req/tilematrixset: the list names WebMercatorQuad and WorldCRS84Quad; each definition is OGC TMS 2.0 JSON
    whose matrices have the Web Mercator cell sizes (2*pi*R/256/2^z) and origin."""
    doc = client.get("/tileMatrixSets").json()
    ids = {t["id"] for t in doc["tileMatrixSets"]}
    assert {WMQ, CRS84Q} <= ids
    wm = client.get(f"/tileMatrixSets/{WMQ}").json()
    assert wm["id"] == WMQ and wm["crs"].endswith("EPSG/0/3857")
    for m in wm["tileMatrices"][:6]:
        z = int(m["id"])
        assert m["matrixWidth"] == m["matrixHeight"] == 2 ** z
        assert math.isclose(m["cellSize"], 2 * math.pi * 6378137 / 256 / 2 ** z, rel_tol=1e-9)
        assert m["pointOfOrigin"] == pytest.approx([-20037508.342789244, 20037508.342789244])
    geo = client.get(f"/tileMatrixSets/{CRS84Q}").json()
    assert geo["tileMatrices"][0]["matrixWidth"] == 2 and geo["tileMatrices"][0]["matrixHeight"] == 1


def _wm_tile(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    lat = max(min(lat, 85.0511), -85.0511)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(x, n - 1), min(y, n - 1)


def test_tileset_limits_come_from_the_data_extent(client):
    """/req/tileset: limits of the HRDPS (polar stereographic) tileset hold exactly the tiles that cover its CRS84
    extent (computed with the Web Mercator tile formula); links give the tiling scheme and templated PNG tiles."""
    cov = client.get("/collections/hrdps").json()
    w, s, e, n = cov["extent"]["spatial"]["bbox"][0]
    doc = client.get(f"/collections/hrdps/map/tiles/{WMQ}").json()
    assert doc["dataType"] == "map" and doc["crs"].endswith("EPSG/0/3857")
    rels = {(l["rel"], l.get("type")) for l in doc["links"]}
    assert ("http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "application/json") in rels
    item = next(l for l in doc["links"] if l["rel"] == "item" and l["type"] == "image/png")
    assert "{tileMatrix}/{tileRow}/{tileCol}" in item["href"] and item["templated"] is True
    for lim in doc["tileMatrixSetLimits"]:
        z = int(lim["tileMatrix"])
        x0, y0 = _wm_tile(w, n, z)
        x1, y1 = _wm_tile(e, s, z)
        assert (lim["minTileCol"], lim["maxTileCol"], lim["minTileRow"], lim["maxTileRow"]) == (x0, x1, y0, y1), z
    assert int(doc["tileMatrixSetLimits"][-1]["tileMatrix"]) >= 5  # 2.5 km cells: zoom 5 tiles (~4.9 km) at least
    listed = client.get("/collections/hrdps/map/tiles").json()["tilesets"]
    assert {t["tileMatrixSetURI"].rsplit("/", 1)[-1] for t in listed} >= {WMQ, CRS84Q}
    assert all(t["dataType"] == "map" for t in listed)


def test_collection_links_to_its_tilesets(client):
    links = {l["rel"]: l["href"] for l in client.get("/collections/coads").json()["links"]}
    assert links["http://www.opengis.net/def/rel/ogc/1.0/tilesets-map"].endswith("/collections/coads/map/tiles")
    assert links["http://www.opengis.net/def/rel/ogc/1.0/tilesets-coverage"].endswith("/collections/coads/coverage/tiles")
    conf = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core" in conf
    landing = {l["rel"] for l in client.get("/").json()["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes" in landing


# (collection, file, variable, tms, z, row, col): lon/lat 0..360, projected GRIB, rotated pole, curvilinear
GRIDS = [
    ("coads", "coads_sst.nc", "SST", CRS84Q, 2, 1, 2),
    ("basin-mask", "basin_mask.nc", "basin", WMQ, 2, 1, 3),
    ("hrdps", "CMC_hrdps_continental_TMP_TGL_80_ps2.5km_2020102700_P005-00.grib2", "t", WMQ, 5, 11, 8),
    ("rotated-pole", "grids/rotated_pole.nc", "air_pressure_at_sea_level", WMQ, 4, 5, 7),
    ("orca2", "grids/orca2_votemper.nc", "votemper", WMQ, 2, 1, 2),
]


@pytest.mark.parametrize("cid,name,var,tms,z,row,col", GRIDS, ids=[g[0] for g in GRIDS])
def test_coverage_tile_values_are_the_source_cells(client, cid, name, var, tms, z, row, col):
    """A GeoTIFF data tile lies exactly on the tile's bounds (morecantile) and each pixel holds the value of the
    source cell nearest its centre (KD-tree on the sphere over the file's own lon/lat)."""
    r = client.get(f"/collections/{cid}/coverage/tiles/{tms}/{z}/{row}/{col}?properties={var}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("image/tiff")
    lon, lat, bounds = tile_pixel_lonlat(tms, z, row, col)
    with rasterio.MemoryFile(r.content) as mem, mem.open() as src:
        got = src.read(1).astype("float64")
        assert src.bounds == pytest.approx(bounds, rel=1e-9, abs=1e-6)
        assert src.width == src.height == 256
    lon2d, lat2d, values = lonlat_cells(name, var)
    want, clear, dist = nearest_on_sphere(lon2d, lat2d, values, lon, lat)
    # cells farther than ~2 grid spacings from any source cell are outside the grid: nodata in the tile
    inside = dist < 2 * np.nanmedian(np.abs(np.diff(lat2d, axis=0))) * math.pi / 180
    check = clear & inside & np.isfinite(want)
    assert check.sum() > 500, "the tile should overlap the data"
    agree = np.isclose(got[check], want[check], rtol=1e-6, equal_nan=False)
    assert agree.mean() > 0.99, f"{(~agree).sum()} of {check.sum()} pixels differ from the source"


def test_map_tile_pixels_are_the_colormap_of_the_source_values(client):
    """A PNG map tile of COADS SST: transparent exactly where the source cell is nodata (land), elsewhere the
    default style's colormap (legend JSON: name and range) applied to the source value of that cell."""
    legend = client.get("/wms?SERVICE=WMS&REQUEST=GetLegendGraphic&LAYER=coads/SST&FORMAT=application/json").json()
    r = client.get(f"/collections/coads/map/tiles/{CRS84Q}/2/1/2?properties=SST")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = rgba(r.content)
    lon, lat, _ = tile_pixel_lonlat(CRS84Q, 2, 1, 2)
    lon2d, lat2d, values = lonlat_cells("coads_sst.nc", "SST")
    want, clear, _ = nearest_on_sphere(lon2d, lat2d, values, lon, lat)
    land = clear & ~np.isfinite(want)
    sea = clear & np.isfinite(want)
    assert land.sum() > 100 and sea.sum() > 1000
    assert (img[..., 3][land] == 0).mean() > 0.99
    vmin, vmax = legend["range"]
    colours = expected_colours(want[sea], legend["colormap"], vmin, vmax)
    diff = np.abs(img[sea].astype(int) - colours.astype(int)).max(axis=1)
    assert (diff <= 1).mean() > 0.99


def test_tile_outside_the_data_is_transparent(client):
    """A map tile wholly outside the data extent (HRDPS covers North America; this tile is in the Indian Ocean) is a
    fully transparent 256x256 PNG with status 200; its coverage tile is all nodata."""
    r = client.get(f"/collections/hrdps/map/tiles/{WMQ}/3/4/5")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = rgba(r.content)
    assert img.shape == (256, 256, 4) and (img[..., 3] == 0).all()
    r = client.get(f"/collections/hrdps/coverage/tiles/{WMQ}/3/4/5")
    with rasterio.MemoryFile(r.content) as mem, mem.open() as src:
        assert np.isnan(src.read(1)).all()


def test_styled_jpeg_and_netcdf_tiles(client):
    """The styled path, JPEG and WebP map tiles and NetCDF data tiles answer in their media types; a NetCDF tile's
    values equal the GeoTIFF tile's."""
    r = client.get(f"/collections/coads/styles/default/map/tiles/{WMQ}/1/0/1?f=jpeg")
    assert r.status_code == 200 and r.content[:3] == b"\xff\xd8\xff"
    r = client.get(f"/collections/coads/map/tiles/{WMQ}/1/0/1?f=webp")
    assert r.status_code == 200 and r.content[8:12] == b"WEBP"
    nc = client.get(f"/collections/coads/coverage/tiles/{CRS84Q}/1/0/1?properties=SST&f=netcdf")
    tif = client.get(f"/collections/coads/coverage/tiles/{CRS84Q}/1/0/1?properties=SST")
    import xarray as xr

    ds = xr.open_dataset(io.BytesIO(nc.content), engine="h5netcdf")
    with rasterio.MemoryFile(tif.content) as mem, mem.open() as src:
        np.testing.assert_array_equal(ds["SST"].values, src.read(1))


def test_datetime_and_subset_pick_the_slice(client):
    """datetime picks a time step, subset a level: the data tile equals the source at that step/level."""
    import xarray as xr

    from tests.conftest import DATASETS

    src = xr.open_dataset(DATASETS / "eraint_uvz.nc")
    r = client.get(f"/collections/eraint/coverage/tiles/{CRS84Q}/0/0/0?properties=z&subset=level(500)&subset=month(7)")
    assert r.status_code == 200, r.text
    with rasterio.MemoryFile(r.content) as mem, mem.open() as f:
        got = f.read(1)
    lon, lat, _ = tile_pixel_lonlat(CRS84Q, 0, 0, 0)
    field = src.z.sel(level=500, month=7)
    lon2d, lat2d = np.meshgrid(src.longitude.values, src.latitude.values)
    want, clear, _ = nearest_on_sphere(lon2d, lat2d, field.values, lon, lat)
    assert np.isclose(got[clear], want[clear], rtol=1e-6).mean() > 0.99
    r2 = client.get(f"/collections/eraint/coverage/tiles/{CRS84Q}/0/0/0?properties=z&subset=level(850)&subset=month(7)")
    with rasterio.MemoryFile(r2.content) as mem, mem.open() as f:
        assert not np.array_equal(f.read(1), got)


@pytest.mark.parametrize("path,status,param", [
    (f"/collections/coads/map/tiles/{WMQ}/25/0/0", 404, "tileMatrix"),
    (f"/collections/coads/map/tiles/{WMQ}/2/4/0", 404, "tileRow"),
    (f"/collections/coads/map/tiles/{WMQ}/2/0/4", 404, "tileCol"),
    (f"/collections/coads/map/tiles/{WMQ}/2/-1/0", 404, "tileRow"),
    (f"/collections/coads/map/tiles/{WMQ}/x/0/0", 404, "tileMatrix"),
    ("/collections/coads/map/tiles/NoSuchSet/0/0/0", 404, "tileMatrixSetId"),
    ("/collections/coads/map/tiles/NoSuchSet", 404, "tileMatrixSetId"),
    ("/tileMatrixSets/NoSuchSet", 404, "tileMatrixSetId"),
    ("/collections/nope/map/tiles", 404, "collectionId"),
    ("/collections/places/map/tiles", 404, "collectionId"),
    (f"/collections/coads/map/tiles/{WMQ}/0/0/0?properties=nope", 400, "properties"),
    (f"/collections/coads/map/tiles/{WMQ}/0/0/0?properties=SST,AIRT", 400, "properties"),
    (f"/collections/coads/map/tiles/{WMQ}/0/0/0?f=gif", 400, "f"),
    (f"/collections/coads/coverage/tiles/{WMQ}/0/0/0?f=png", 400, "f"),
    (f"/collections/coads/map/tiles/{WMQ}/0/0/0?datetime=1999-01-01", 400, "datetime"),
    (f"/collections/coads/map/tiles/{WMQ}/0/0/0?datetime=2000-01-01/2000-03-01", 400, "datetime"),
    (f"/collections/coads/map/tiles/{WMQ}/0/0/0?datetime=yesterday", 400, "datetime"),
    (f"/collections/eraint/map/tiles/{WMQ}/0/0/0?subset=level(501)", 400, "subset"),
    (f"/collections/eraint/map/tiles/{WMQ}/0/0/0?subset=level(200:500)", 400, "subset"),
    (f"/collections/eraint/map/tiles/{WMQ}/0/0/0?subset=depth(5)", 400, "subset"),
    (f"/collections/coads/map/tiles/{WMQ}/0/0/0?transparent=maybe", 400, "transparent"),
    ("/collections/coads/styles/nope/map/tiles/WebMercatorQuad/0/0/0", 404, "styles"),
    (f"/collections/hrdps/map/tiles/{WMQ}/3/4/5?datetime=1999-01-01", 400, "datetime"),  # outside the data: checked too
    (f"/collections/hrdps/styles/nope/map/tiles/{WMQ}/3/4/5", 404, "styles"),
])
def test_bad_tile_requests(client, path, status, param):
    r = client.get(path)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["parameter"] == param and body["detail"]


def test_etag_is_strong_and_revalidates(client):
    """Tiles carry a strong ETag (same request, same source: same bytes) and Cache-Control; If-None-Match -> 304."""
    url = f"/collections/coads/map/tiles/{WMQ}/1/0/0"
    a, b = client.get(url), client.get(url)
    tag = a.headers["etag"]
    assert not tag.startswith("W/") and tag == b.headers["etag"] and a.content == b.content
    assert "max-age" in a.headers["cache-control"]
    r = client.get(url, headers={"If-None-Match": tag})
    assert r.status_code == 304 and r.content == b""
    assert client.get(url + "?properties=AIRT").headers["etag"] != tag
    assert client.get(f"/collections/coads/map/tiles/{WMQ}/1/0/1").headers["etag"] != tag
