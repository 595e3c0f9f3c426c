"""Client mistakes are 400 (naming the parameter and what is allowed), too much data is 413, nothing is a 500."""

from __future__ import annotations

import pytest

from .conftest import assert_error


@pytest.mark.parametrize("cid, params, parameter, words", [
    ("coads", {"subset": "depth(0:10)"}, "subset", ["unknown axis", "COADSX, COADSY, TIME"]),
    ("coads", {"subset": "COADSY(60:40)"}, "subset", ["low end above"]),
    ("coads", {"subset": 'TIME("2000-06-01":"2000-03-01")'}, "subset", ["starts after"]),
    ("coads", {"subset": "COADSY(95:99)"}, "subset", ["latitude 95", "-90..90"]),
    ("coads", {"subset": "COADSY(95)"}, "subset", ["outside"]),
    ("coads", {"subset": "COADSX(a:b)"}, "subset", ["not a number"]),
    ("coads", {"subset": "COADSX(1:2"}, "subset", ["expected axis(value)"]),
    ("coads", {"subset": "COADSX(1:2),Lon(3:4)"}, "subset", ["twice"]),
    ("eraint", {"subset": "level(700)"}, "subset", ["not one of the level values", "200, 500, 850"]),
    ("eraint", {"subset": "month(3)"}, "subset", ["not one of the month values"]),
    ("coads", {"properties": "SST,nope"}, "properties", ["unknown", "SST, AIRT, UWND, VWND"]),
    ("coads", {"properties": "SST,,AIRT"}, "properties", ["comma-separated"]),
    ("coads", {"bbox": "10,60,20,40"}, "bbox", ["greater than"]),
    ("coads", {"bbox": "1,2,3"}, "bbox", ["4 numbers"]),
    ("coads", {"datetime": "yesterday"}, "datetime", ["date-time"]),
    ("eraint", {"datetime": "2000-01-01"}, "datetime", ["no time axis"]),
    ("cmip5-pr", {"datetime": "2050-02-30"}, "datetime", []),
    ("coads", {"f": "xml"}, "f", ["allowed"]),
])
def test_bad_requests_are_400(client, cid, params, parameter, words):
    assert_error(client.get(f"/collections/{cid}/coverage", params=params), 400, parameter, *words)


@pytest.mark.parametrize("cid, params, parameter, words", [
    ("mur-sst", {"subset": "lat(10:20)"}, "subset", ["entirely outside", "extent"]),
    ("coads", {"subset": 'TIME("1990-01-01")'}, "subset", ["outside the temporal extent"]),
    ("landsat-rgb", {"bbox": "0,0,1,1"}, "bbox", ["entirely outside", "extent"]),
    ("coads", {"datetime": "1990-01-01/1991-01-01"}, "datetime", ["entirely outside the temporal extent"]),
])
def test_requests_entirely_outside_an_axis_are_404(client, cid, params, parameter, words):
    """Coverages /req/subsetting-*/out-of-bounds: 204 or 404 (was 400); this server answers 404 with a reason."""
    assert_error(client.get(f"/collections/{cid}/coverage", params=params), 404, parameter, *words)


def test_size_limit_is_413(app, client):
    limits = app.state.ctx.config.limits
    old = limits.max_cells
    limits.max_cells = 10_000
    try:
        assert_error(client.get("/collections/coads/coverage"), 413, None, "10,000")
        assert client.get("/collections/coads/coverage", params={"subset": "COADSX(0:20),COADSY(0:20)"}).status_code == 200
    finally:
        limits.max_cells = old


def test_unknown_collection_is_404(client):
    assert client.get("/collections/nope/coverage").status_code == 404
    assert client.get("/collections/nope/coverage/domainset").status_code == 404


@pytest.mark.parametrize("query", [
    "subset=", "subset=()", "subset=TIME(*:*)", "subset=TIME(%22%22)", "subset=COADSX(nan:inf)", "scale-size=COADSX(1e400)",
    "scale-factor=1e-300", "scale-axes=TIME(1e9)", "crs=EPSG:4326&scale-factor=1000", "bbox=-180,-90,180,90&bbox-crs=EPSG:3857",
    "subset=COADSX(-1e308:1e308)", "f=png&properties=SST&subset=COADSY(0)", "f=tif&subset=COADSX(1)",
    "crs=EPSG:32618&f=tif", "subset-crs=EPSG:3857&subset=COADSX(0:100000)",
])
def test_odd_requests_never_500(client, query):
    r = client.get(f"/collections/coads/coverage?{query}")
    assert r.status_code < 500, r.text
