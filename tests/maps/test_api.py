"""OGC API - Maps resources: conformance, collection links, styles from the config, legends (JSON stops with
units and colours computed independently with matplotlib, PNG colour bars), conditional GET, and every bad
input a 400 (404 for unknown styles and Features collections) naming the parameter."""

from __future__ import annotations

import cmocean  # noqa: F401
import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.colors import Normalize

from .conftest import rgba

REL_MAP = "http://www.opengis.net/def/rel/ogc/1.0/map"


def test_conformance_declares_maps(client):
    conf = client.get("/conformance").json()["conformsTo"]
    for c in ("core", "collection-map", "styled-map", "scaling", "spatial-subsetting", "datetime",
              "general-subsetting", "crs", "background", "png", "jpeg"):
        assert f"http://www.opengis.net/spec/ogcapi-maps-1/1.0/conf/{c}" in conf


def test_collection_document_links_maps_and_styles(client):
    doc = client.get("/collections/coads").json()
    maps = [lk for lk in doc["links"] if lk["rel"] == REL_MAP]
    assert {lk["type"] for lk in maps} >= {"image/png", "image/jpeg", "image/webp", "application/json"}
    png = next(lk for lk in maps if lk["type"] == "image/png")
    r = client.get(png["href"].replace("http://testserver", "") + "&width=90")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert any(lk["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/styles" for lk in doc["links"])
    assert doc["defaultStyle"] == "default"
    features = client.get("/collections/places").json()
    assert not any(lk["rel"] == REL_MAP for lk in features["links"])


def test_styles_from_config_are_listed_and_honoured(client):
    doc = client.get("/collections/coads/styles").json()
    ids = [s["id"] for s in doc["styles"]]
    assert ids[0] == "default" and "sst-contours" in ids and "contours" in ids
    sst = next(s for s in doc["styles"] if s["id"] == "default")["parameters"]["SST"]
    assert sst["colormap"] == "cmo.thermal" and sst["range"] == [-2.0, 30.0] and sst["units"] == "Deg C"
    iso = next(s for s in doc["styles"] if s["id"] == "sst-contours")["parameters"]["SST"]
    assert iso["kind"] == "contour" and iso["levels"][:3] == [0.0, 2.0, 4.0]
    # the configured contour style draws lines: few coloured pixels, all in cmo.thermal's colours band
    base = "/collections/coads/styles/sst-contours/map?properties=SST&bbox=-180,-90,180,90&width=360&height=180"
    img = rgba(client.get(base).content)
    drawn = img[..., 3] > 0
    assert 0.01 < drawn.mean() < 0.5
    ramp = rgba(client.get(base.replace("styles/sst-contours/map", "map")).content)
    assert (ramp[..., 3] > 0).mean() > drawn.mean()


def test_legend_json_continuous_stops_and_units(client):
    r = client.get("/collections/coads/styles/default/legend?properties=SST&f=json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["units"] == "Deg C" and doc["kind"] == "continuous" and doc["style"] == "default"
    values = [s["value"] for s in doc["stops"]]
    np.testing.assert_allclose(values, np.linspace(-2, 30, 11))
    # the colours the map's pixels get: matplotlib's 8-bit colours (bytes=True)
    want = ["#{:02x}{:02x}{:02x}".format(*colormaps["cmo.thermal"](Normalize(-2, 30)(v), bytes=True)[:3]) for v in values]
    assert [s["color"] for s in doc["stops"]] == want


def test_legend_json_categorical_flags(styled_client):
    """CF flag_values / flag_meanings (MUR mask): one stop per flag with its meaning."""
    from tests.conftest import open_source

    attrs = open_source("analysed_sst.zarr")["mask"].attrs
    doc = styled_client.get("/collections/mur/styles/default/legend?properties=mask&f=json").json()
    assert doc["kind"] == "categorical"
    assert [s["value"] for s in doc["stops"]] == [float(v) for v in attrs["flag_values"]]
    assert [s["label"] for s in doc["stops"]] == [m.strip() for m in attrs["flag_meanings"].split(",")]
    assert len({s["color"] for s in doc["stops"]}) == len(doc["stops"])


def test_categorical_map_uses_the_legend_colours(styled_client):
    """Each drawn pixel of the MUR mask has the legend colour of the flag at that cell."""
    from tests.conftest import open_source

    from .conftest import centres, nearest_on_axis

    legend = styled_client.get("/collections/mur/styles/default/legend?properties=mask&f=json").json()
    colour_of = {s["value"]: s["color"] for s in legend["stops"]}
    bbox, w, h = (-28.0, 40.0, -27.0, 41.0), 50, 50
    img = rgba(styled_client.get(f"/collections/mur/map?properties=mask&bbox={','.join(map(str, bbox))}"
                                 f"&width={w}&height={h}").content)
    src = open_source("analysed_sst.zarr")["mask"].isel(time=-1)
    xs, ys = centres(bbox, w, h)
    ix, okx, _ = nearest_on_axis(src["lon"].values.astype(float), xs)
    iy, oky, _ = nearest_on_axis(src["lat"].values.astype(float), ys)
    vals = src.values[np.ix_(iy, ix)]
    ok = oky[:, None] & okx[None, :] & np.isfinite(vals)
    assert ok.sum() > 100
    got = ["#{:02x}{:02x}{:02x}".format(*p[:3]) for p in img[ok]]
    assert got == [colour_of[float(v)] for v in vals[ok]]


def test_legend_png(client):
    r = client.get("/collections/coads/styles/default/legend?properties=SST&width=100&height=250")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert rgba(r.content).shape == (250, 100, 4)
    r = client.get("/collections/coads/styles/default/legend?properties=SST", headers={"Accept": "application/json"})
    assert r.headers["content-type"].startswith("application/json") and r.json()["units"] == "Deg C"


def test_legend_follows_the_level(styled_client):
    """Without a configured range, the range is per level: 850 hPa geopotential is not 200 hPa's."""
    lo = styled_client.get("/collections/era/styles/default/legend?properties=v&subset=level(850)&f=json").json()
    hi = styled_client.get("/collections/era/styles/default/legend?properties=v&subset=level(200)&f=json").json()
    assert lo["range"] != hi["range"]
    from tests.conftest import open_source

    v = open_source("eraint_uvz.nc")["v"].sel(level=200).values
    assert abs(hi["range"][1]) <= np.nanmax(np.abs(v)) + 1e-6


def test_conditional_get(client):
    url = "/collections/coads/map?properties=SST&width=60"
    r = client.get(url)
    etag = r.headers["etag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("query, parameter", [
    ("width=0", "width"), ("width=5000", "width"), ("height=-3", "height"), ("width=abc", "width"),
    ("bbox=1,2,3", "bbox"), ("bbox=10,0,5,5&crs=http://www.opengis.net/def/crs/EPSG/0/3857&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857", "bbox"),
    ("bbox=0,10,10,5", "bbox"), ("bbox=0,-95,10,5", "bbox"), ("bbox=a,b,c,d", "bbox"),
    ("crs=EPSG:99999", "crs"), ("bbox-crs=nonsense&bbox=0,0,1,1", "bbox-crs"),
    ("datetime=1999-01-01", "datetime"), ("datetime=2000-01-01/2000-03-01", "datetime"), ("datetime=notatime", "datetime"),
    ("subset=depth(3)", "subset"), ("subset=foo(", "subset"), ("properties=nope", "properties"),
    ("properties=SST,AIRT", "properties"), ("f=gif", "f"), ("transparent=maybe", "transparent"),
    ("bgcolor=zz&transparent=false", "bgcolor"), ("resampling=cubic", "resampling"),
])
def test_bad_inputs_name_the_parameter(client, query, parameter):
    r = client.get(f"/collections/coads/map?{query}")
    assert r.status_code == 400, r.text
    assert r.json()["parameter"] == parameter


def test_bad_level_and_dimension(styled_client):
    r = styled_client.get("/collections/era/map?properties=u&subset=level(501)")
    assert r.status_code == 400 and r.json()["parameter"] == "subset" and "200, 500, 850" in r.json()["detail"]
    r = styled_client.get("/collections/era/map?properties=u&subset=level(500:850)")
    assert r.status_code == 400 and r.json()["parameter"] == "subset"


def test_not_found(client):
    r = client.get("/collections/coads/styles/nope/map")
    assert r.status_code == 404 and r.json()["parameter"] == "styleId"
    assert client.get("/collections/coads/styles/nope/legend").status_code == 404
    assert client.get("/collections/places/map").status_code == 404
    assert client.get("/collections/places/styles").status_code == 404
    assert client.get("/collections/nope/map").status_code == 404
    r = client.get("/collections/coads/styles/default/legend?properties=nope")
    assert r.status_code == 400 and r.json()["parameter"] == "properties"


def test_scaling_keeps_the_aspect(client):
    r = client.get("/collections/coads/map?properties=SST&bbox=0,0,40,20&width=200")
    assert rgba(r.content).shape[:2] == (100, 200)
    r = client.get("/collections/coads/map?properties=SST")
    assert rgba(r.content).shape[:2] == (512, 1024)
    assert r.headers["content-bbox"] == "-180,-90,180,90"


def test_accept_negotiates_the_image_format(client):
    for accept, media in (("image/jpeg", "image/jpeg"), ("image/webp,*/*;q=0.8", "image/webp"), ("image/*", "image/png"),
                          ("*/*", "image/png")):
        r = client.get("/collections/coads/map?properties=SST&width=40", headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"] == media, accept
    r = client.get("/collections/coads/map?properties=SST&width=40", headers={"Accept": "text/csv"})
    assert r.status_code == 406


@pytest.mark.parametrize("crs", ["EPSG:3857", "EPSG:32633", "EPSG:3413"])
def test_lonlat_bbox_beyond_a_projection_is_cut_to_where_it_is_defined(client, crs):
    """The whole globe asked in a projected crs maps the part where that crs is defined (Web Mercator:
    the WebMercatorQuad square at ±85.0511°; others: their EPSG area of use), never ±90° sent to infinity."""
    from pyproj import CRS, Transformer

    r = client.get("/collections/eraint/map", params={"properties": "z", "crs": crs, "bbox": "-180,-90,180,90",
                                                        "width": 200})
    assert r.status_code == 200, r.text
    got = [float(v) for v in r.headers["content-bbox"].split(",")]
    dst = CRS.from_user_input(crs)
    a = dst.area_of_use
    south, north = (-85.0511287798066, 85.0511287798066) if crs == "EPSG:3857" else (a.south, a.north)
    west, east = (a.west, a.east) if a.east - a.west < 359 else (-180.0, 180.0)
    want = Transformer.from_crs("EPSG:4326", dst, always_xy=True).transform_bounds(west, south, east, north,
                                                                                   densify_pts=21)
    assert np.allclose(got, want, rtol=5e-3, atol=1.0), (got, want)  # edges densified more finely by the server
    assert all(abs(v) < 2.1e7 for v in got)


def test_bbox_outside_the_area_of_a_projection_is_a_400(client):
    r = client.get("/collections/eraint/map", params={"properties": "z", "crs": "EPSG:3413", "bbox": "-180,-90,180,-60"})
    assert r.status_code == 400 and r.json()["parameter"] == "bbox" and "lat 60..90" in r.json()["detail"]


@pytest.mark.parametrize("param", ["crs", "bbox-crs"])
def test_unknown_crs_message_is_ours_not_proj(client, param):
    r = client.get("/collections/coads/map", params={"properties": "SST", param: "foo", "bbox": "-10,-10,10,10"})
    assert r.status_code == 400 and r.json()["parameter"] == param
    assert "proj" not in r.json()["detail"].lower() and "EPSG" in r.json()["detail"]
