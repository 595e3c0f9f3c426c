"""The map viewer (/collections/{id}/viewer) in a real browser with no internet: the data tiles are
drawn (pixels with and without the data layer differ), the time slider asks for the new time step's
tiles, a click plots the EDR time series whose values are the source file's at the nearest cell, and
rotated-pole and curvilinear collections work the same (issue 14, items 5-6)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

import numpy as np
import pytest

from tests.conftest import open_source

from .pixels import pixels, screenshot

TILES = "/map/tiles/WebMercatorQuad/"


def open_viewer(watched, server: str, cid: str):
    page = watched.page
    page.goto(f"{server}/collections/{cid}/viewer", wait_until="networkidle")
    page.wait_for_function("() => document.querySelectorAll('#map .leaflet-tile-loaded').length > 0", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('#map .leaflet-pane path').length > 100", timeout=30_000)
    page.wait_for_load_state("networkidle")
    return page


def data_layer_shows(page) -> float:
    """Fraction of map pixels that change when the data layer is hidden: > 0 means the tiles draw data."""
    with_data = pixels(page.locator("#map").screenshot()).astype(int)
    # `void`: setOpacity returns the Leaflet layer, which Playwright would serialise (map, DOM and all: ~3.5 s)
    page.evaluate("void window.cubeserverViewer.layer.setOpacity(0)")
    without = pixels(page.locator("#map").screenshot()).astype(int)
    page.evaluate("void window.cubeserverViewer.layer.setOpacity(0.85)")
    return float((np.abs(with_data - without).sum(axis=2) > 30).mean())


def wait_tiles_with(page, fragment: str) -> None:
    """Wait until a loaded data tile's URL contains `fragment` (URL-encoded as the page writes it)."""
    page.wait_for_function("(f) => Array.from(document.querySelectorAll('#map .leaflet-tile-loaded'))"
                           ".some(i => i.src.includes(f))", arg=fragment, timeout=60_000)
    page.wait_for_load_state("networkidle")


def tile_queries(watched, since: int = 0) -> list[dict]:
    return [parse_qs(urlsplit(u).query) for u in watched.requests[since:] if TILES in u]


@pytest.mark.parametrize("cid", ["coads", "rotated-pole", "orca2", "hybrid-height"])
def test_viewer_draws_data_tiles_offline(server, watched, cid):
    """lon/lat (coads), rotated pole, tripolar curvilinear (orca2), model levels: the map shows data."""
    page = open_viewer(watched, server, cid)
    assert tile_queries(watched), "no data tile was requested"
    changed = data_layer_shows(page)
    assert changed > 0.02, f"the data layer changes only {changed:.1%} of the map"
    legend = page.locator("#legend canvas")
    assert legend.count() == 1, page.locator("#legend").inner_text()
    screenshot(page, f"viewer-{cid}")
    watched.check_clean()


def test_time_slider_changes_the_tiles_requested(server, watched):
    page = open_viewer(watched, server, "coads")
    times = page.evaluate("JSON.parse(document.getElementById('viewer-config').textContent).times")
    assert len(times) == 12
    before = {q["datetime"][0] for q in tile_queries(watched)}
    assert before == {times[-1]}  # the latest step first
    n = len(watched.requests)
    page.locator("#time").focus()
    page.keyboard.press("Home")  # the first time step
    wait_tiles_with(page, "datetime=" + quote(times[0], safe=""))
    after = tile_queries(watched, n)
    assert after, "moving the slider requested no tiles"
    assert {q["datetime"][0] for q in after} == {times[0]}
    assert page.locator("#time-value").inner_text() == times[0]
    watched.check_clean()


def test_level_picker_changes_the_subset(server, watched):
    page = open_viewer(watched, server, "hybrid-height")
    cfg = page.evaluate("JSON.parse(document.getElementById('viewer-config').textContent)")
    name, values = cfg["vertical"]["name"], cfg["vertical"]["values"]
    n = len(watched.requests)
    page.select_option("#level", index=3)
    wait_tiles_with(page, "subset=" + quote(f"{name}({values[3]})", safe="()"))
    subsets = {q["subset"][0] for q in tile_queries(watched, n)}
    assert subsets == {f"{name}({values[3]})"}
    watched.check_clean()


def click_centre(page, lonlat: tuple[float, float] | None = None) -> tuple[float, float]:
    """Click the map at its centre (or at `lonlat`); wait for a chart; the lon/lat the page reports."""
    box = page.locator("#map").bounding_box()
    x, y = box["width"] / 2, box["height"] / 2
    if lonlat is not None:
        pt = page.evaluate("([lon, lat]) => window.cubeserverViewer.map.latLngToContainerPoint([lat, lon])", list(lonlat))
        x, y = pt["x"], pt["y"]
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_function("() => document.querySelector('#charts .uplot canvas') !== null", timeout=60_000)
    text = page.locator("#click-info").inner_text()
    lon, lat = map(float, re.search(r"lon (-?[\d.]+), lat (-?[\d.]+)", text).groups())
    return lon, lat


def chart_series(page) -> list[list[float | None]]:
    return page.evaluate("Array.from(document.querySelectorAll('#charts .chart')).map(c => c.plot.data[1])")


def test_click_plots_the_time_series_of_the_source(server, watched):
    """A click draws the EDR position time series; its values are the file's at the nearest cell (xarray)."""
    page = open_viewer(watched, server, "coads")
    param = page.evaluate("window.cubeserverViewer.state.param")
    lon, lat = click_centre(page)
    series = chart_series(page)
    assert len(series) == 1 and len(series[0]) == 12
    truth = open_source("coads_sst.nc")[param].sel(COADSX=lon, COADSY=lat, method="nearest").values
    got = np.array([np.nan if v is None else v for v in series[0]], dtype=float)
    np.testing.assert_allclose(got, truth.astype(float), rtol=1e-5, equal_nan=True)
    assert np.isfinite(got).sum() >= 6
    screenshot(page, "viewer-click-series")
    watched.check_clean()


def test_click_plots_the_vertical_profile(server, watched):
    """A collection with levels: the click also plots the profile at the time shown (one value per level)."""
    page = open_viewer(watched, server, "hybrid-height")
    levels = page.evaluate("JSON.parse(document.getElementById('viewer-config').textContent).vertical.values")
    click_centre(page)
    page.wait_for_function("() => document.querySelectorAll('#charts .chart').length >= 1")
    titles = page.locator("#charts .chart .title").all_inner_texts()
    assert any("vertical profile" in t for t in titles), titles
    profile = chart_series(page)[[i for i, t in enumerate(titles) if "profile" in t][0]]
    assert len(profile) == len(levels) and sum(v is not None for v in profile) == len(levels)
    watched.check_clean()


@pytest.mark.parametrize("cid,lonlat", [("rotated-pole", None), ("orca2", (-30.0, 40.0))])
def test_click_on_rotated_and_curvilinear_grids(server, watched, cid, lonlat):
    page = open_viewer(watched, server, cid)
    click_centre(page, lonlat)
    series = chart_series(page)
    assert series and any(v is not None for v in series[0])
    watched.check_clean()
