"""EDR answers as HTML (f=html: a chart or a map drawn from the same query's CoverageJSON) and the
job page (inputs shown, refreshes itself while the job runs), in a real browser with no internet."""

from __future__ import annotations

import numpy as np
import requests

from tests.conftest import open_source

from .pixels import screenshot


def test_position_f_html_draws_the_time_series(server, watched):
    """coads SST at a point: the page's chart holds the file's 12 monthly values at the nearest cell."""
    page = watched.page
    page.goto(f"{server}/collections/coads/position?coords=POINT(-30 10)&parameter-name=SST&f=html",
              wait_until="networkidle")
    page.wait_for_function("() => document.querySelector('#edr-charts .uplot canvas') !== null", timeout=60_000)
    series = page.evaluate("document.querySelector('#edr-charts .chart').plot.data[1]")
    truth = open_source("coads_sst.nc")["SST"].sel(COADSX=-30, COADSY=10, method="nearest").values
    np.testing.assert_allclose(np.array(series, dtype=float), truth.astype(float), rtol=1e-5)
    assert page.locator("#edr-map .leaflet-marker-pane, #edr-map path").count() > 0
    screenshot(page, "edr-position")
    watched.check_clean()


def test_trajectory_f_html_draws_values_along_the_path(server, watched):
    page = watched.page
    page.goto(f"{server}/collections/coads/trajectory?coords=LINESTRING(-40 0,-30 10,-20 20)"
              "&datetime=2000-01-16T06:00:00Z&parameter-name=SST&f=html", wait_until="networkidle")
    page.wait_for_function("() => document.querySelector('#edr-charts .uplot canvas') !== null", timeout=60_000)
    title = page.locator("#edr-charts .chart .title").first.inner_text()
    assert "along the path" in title
    values = page.evaluate("document.querySelector('#edr-charts .chart').plot.data[1]")
    assert len(values) >= 3 and all(v is not None for v in values)
    watched.check_clean()


def test_area_f_html_draws_a_map_of_the_answer(server, watched):
    """An area query: the Maps image of its box is loaded over the base layer, with the values' summary
    (minimum/maximum equal to the source's over the cells inside the polygon)."""
    page = watched.page
    page.goto(f"{server}/collections/coads/area?coords=POLYGON((-40 -10,0 -10,0 20,-40 20,-40 -10))"
              "&datetime=2000-01-16T06:00:00Z&parameter-name=SST&f=html", wait_until="networkidle")
    page.wait_for_function("() => { const i = document.querySelector('#edr-map img.leaflet-image-layer');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=60_000)
    page.wait_for_selector("#edr-charts table tr:nth-child(2)")
    cells = page.locator("#edr-charts table tr").nth(1).locator("td").all_inner_texts()
    src = open_source("coads_sst.nc")["SST"].isel(TIME=0)
    inside = src.where((src.COADSX >= -40) & (src.COADSX <= 0) & (src.COADSY >= -10) & (src.COADSY <= 20))
    assert abs(float(cells[2]) - float(inside.min())) < 1e-3
    assert abs(float(cells[4]) - float(inside.max())) < 1e-3
    screenshot(page, "edr-area")
    watched.check_clean()


def test_bad_edr_query_in_html_is_its_400(server):
    r = requests.get(f"{server}/collections/coads/position", params={"coords": "POINT(x y)", "f": "html"}, timeout=30)
    assert r.status_code == 400 and r.json()["parameter"] == "coords"


def test_job_page_shows_inputs_and_refreshes_until_finished(server, watched):
    """The page of a job that was running when it was loaded polls the status and reloads once it has
    changed; the finished page shows the inputs and polls no more. (The first load is served as the
    page of a running job: the real job finishes too fast to catch it running.)"""
    r = requests.post(f"{server}/processes/echo/execution", json={"inputs": {"message": "hello viewer"}},
                      headers={"Prefer": "respond-async"}, timeout=30)
    assert r.status_code == 201
    job = r.headers["Location"].rstrip("/").split("/")[-1]
    page = watched.page
    served = []

    def as_running(route):
        response = route.fetch()
        body = response.text()
        if not served:
            body = body.replace('data-status="successful"', 'data-status="running"')
        served.append(body)
        route.fulfill(response=response, body=body)

    page.route(f"**/jobs/{job}?f=html", as_running)
    for _ in range(100):  # the echo job ends in well under a second; its page is then final
        if requests.get(f"{server}/jobs/{job}", timeout=30).json()["status"] == "successful":
            break
        page.wait_for_timeout(100)
    page.goto(f"{server}/jobs/{job}?f=html")
    page.wait_for_function("() => document.getElementById('job').dataset.status === 'successful'", timeout=30_000)
    assert len(served) == 2  # loaded "running", polled, reloaded once
    polls = [u for u in watched.requests if u.endswith(f"/jobs/{job}?f=json")]
    assert len(polls) == 1
    assert "hello viewer" in page.locator("main").inner_text()
    page.wait_for_timeout(2500)
    assert len([u for u in watched.requests if u.endswith(f"/jobs/{job}?f=json")]) == 1  # no polling once finished
    screenshot(page, "job")
    watched.check_clean()
