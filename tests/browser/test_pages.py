"""Every HTML page in a real browser with no internet: nothing requested from another host, no
console error, maps drawn (pixels), /docs rendered from the vendored Swagger UI (issue 14, items 5-6)."""

from __future__ import annotations

import pytest
import requests

from .pixels import not_blank, screenshot

PAGES = [
    ("landing", "/?f=html", "main ul li"),
    ("collections", "/collections?f=html", "a.viewer-link"),
    ("collection", "/collections/coads?f=html", "a.viewer-link"),
    ("conformance", "/conformance?f=html", "main li"),
    ("processes", "/processes?f=html", "main table"),
]


@pytest.mark.parametrize("name,path,selector", PAGES, ids=[p[0] for p in PAGES])
def test_page_offline_and_clean(server, watched, name, path, selector):
    page = watched.page
    page.goto(server + path, wait_until="networkidle")
    assert page.locator(selector).count() > 0
    # the stylesheet is ours and applied (a CSP forbidding inline styles must not leave the page unstyled)
    assert page.evaluate("getComputedStyle(document.querySelector('header')).display") == "flex"
    watched.check_clean()


def test_docs_renders_swagger_ui_offline(server, watched):
    """/docs: the vendored Swagger UI renders this server's OpenAPI operations (no CDN, no validator badge)."""
    page = watched.page
    page.goto(server + "/docs", wait_until="networkidle")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    documented = requests.get(server + "/openapi.json", timeout=30).json()["paths"]
    assert len(paths) >= 10 and {p.replace("\u200b", "") for p in paths} <= set(documented)
    assert "/collections/{collectionId}/position" in {p.replace("\u200b", "") for p in paths}
    screenshot(page, "docs")
    watched.check_clean()


@pytest.mark.parametrize("path", ["/collections/places/items?f=html&limit=300", "/collections/lakes/items/3?f=html"])
def test_features_pages_draw_their_map_offline(server, watched, path):
    """The Features pages' map: the features and the bundled Natural Earth countries, no OSM tiles."""
    page = watched.page
    page.goto(server + path, wait_until="networkidle")
    page.wait_for_function("() => document.querySelectorAll('#map .leaflet-pane path').length > 100", timeout=30_000)
    features = page.locator("#map .leaflet-overlay-pane path").count()
    assert features >= 1  # the page's own features (circle markers or polygons)
    assert not [u for u in watched.requests if "/map/tiles/" in u or "tile" in u.split("?")[0].split("/")[-1]]
    shot = page.locator("#map").screenshot()
    assert not_blank(shot) > 0.2, "the map is (nearly) one colour"
    if "items?" in path:
        screenshot(page, "features-items")
    watched.check_clean()


def test_basemap_collection_is_served_as_features(server):
    """The base layer is an ordinary Features collection (Natural Earth 110m countries, lon/lat polygons)."""
    doc = requests.get(server + "/collections/countries/items?f=json&limit=1000", timeout=30).json()
    assert doc["numberMatched"] == doc["numberReturned"] > 150
    names = {f["properties"]["name"] for f in doc["features"]}
    assert {"France", "Brazil", "Antarctica", "Fiji", "Russia"} <= names
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in doc["features"])
