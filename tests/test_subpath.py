"""Serving under a sub-path behind a reverse proxy: every link of every answer carries the prefix.

Three set-ups a proxy can make (cubeserver.http.prefix): the server is given its root path (uvicorn
`--root-path`, here TestClient's `root_path`, which like uvicorn keeps the prefix in the path), the
proxy names it per request in `X-Forwarded-Prefix` (with `http.forwarded_prefix: true`; the proxy
stripped it from the path, or not), or the config's `base_url` has a path. Each walks the same tour
of resources and checks every link to this server, and path-based guards (auth areas, Allow).
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DATASETS, app_on_shared_collections

PREFIX = "/cubeserver"
TOUR = ["/", "/conformance", "/collections", "/collections/coads", "/collections/coads?f=html",
        "/collections/coads/position?coords=POINT(-30 10)&parameter-name=SST&f=geojson",
        "/collections/coads/position?coords=POINT(-30 10)&parameter-name=SST&f=html",
        "/collections/coads/locations", "/collections/places/items?limit=2",
        "/collections/places/items?limit=2&f=html", "/collections/coads/coverage/domainset", "/collections/coads/styles",
        "/processes", "/processes/temporal-aggregate", "/collections/coads/zarr", "/tileMatrixSets",
        "/collections/coads/viewer", "/conformance?f=html"]


def links(resp) -> list[str]:
    """Every href/src/url of a JSON or HTML answer, and its Location and Link headers."""
    text = resp.text
    found = re.findall(r'(?:href|src|action|data-basemap)="([^"]+)"', text)
    found += re.findall(r'"(?:href|url|endpoint|edrqueryendpoint|data_url|basemap|tiles|legend|position)"\s*:\s*"([^"]+)"',
                        text)
    found += [resp.headers[h] for h in ("location", "content-location") if h in resp.headers]
    found += re.findall(r"<([^>]+)>", resp.headers.get("link", ""))
    return [h.replace("&amp;", "&") for h in found]


def wrong_links(resp, public: str) -> list[str]:
    """Links to this server (host of `public`, or host-relative) that are not below `public`."""
    host = urlsplit(public).netloc
    bad = []
    for h in links(resp):
        parts = urlsplit(h)
        if parts.scheme in ("http", "https") and parts.netloc != host:
            continue  # other sites: OGC definitions, schemas, licences
        if parts.scheme == "" and (not h.startswith("/") or h.startswith("//")):
            continue  # relative links, fragments, `{z}` templates of scripts
        absolute = h if parts.scheme else f"{urlsplit(public).scheme}://{host}{h}"
        if not (absolute == public or absolute.startswith(public + "/") or absolute.startswith(public + "?")):
            bad.append(h)
    return bad


def tour(c: TestClient, path_prefix: str, public: str, **headers):
    seen = 0
    for path in TOUR:
        r = c.get(path_prefix + path, headers=headers)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        assert wrong_links(r, public) == [], path
        seen += len(links(r))
    assert seen > 500  # the tour did look at links (the collections list alone has hundreds)
    r = c.get(path_prefix + "/collections/coads/position?coords=POINT(-30 10)&parameter-name=SST&f=geojson",
              headers=headers)
    feature = r.json()["features"][0]
    assert feature["properties"]["edrqueryendpoint"].startswith(public + "/collections/coads/position?")
    # an async job: its Location, status and results links
    r = c.post(path_prefix + "/processes/echo/execution", headers={"Prefer": "respond-async", **headers},
               json={"inputs": {"message": "hello"}})
    assert r.status_code == 201, r.text
    assert r.headers["location"].startswith(public + "/jobs/")
    status = r.headers["location"][len(public):]
    deadline = time.monotonic() + 60
    while (s := c.get(path_prefix + status, headers=headers)).json()["status"] not in ("successful", "failed"):
        assert time.monotonic() < deadline, s.json()
        time.sleep(0.1)
    assert s.json()["status"] == "successful"
    assert wrong_links(s, public) == [] and any("/results" in h for h in links(s))
    # a wrong method names what the path offers, found below the root path
    r = c.delete(path_prefix + "/collections/coads", headers=headers)
    assert r.status_code == 405 and "GET" in r.headers["allow"]


@pytest.fixture
def own_app(app, tmp_path):
    """An app of the bundled collections with a config of its own (`cfg(config)` edits it)."""
    def make(edit):
        cfg = app.state.ctx.config.model_copy(deep=True)
        cfg.state_dir = str(tmp_path / "state")
        edit(cfg)
        return app_on_shared_collections(app, cfg)
    return make


def test_root_path_given_to_the_server(own_app):
    with TestClient(own_app(lambda cfg: None), root_path=PREFIX) as c:
        tour(c, PREFIX, "http://testserver" + PREFIX)
        spec = c.get(PREFIX + "/openapi.json").json()
        assert spec.get("servers", [{}])[0].get("url", PREFIX).endswith(PREFIX) or "servers" not in spec
        # the server's own checks still answer without the prefix (the container's HEALTHCHECK)
        assert c.get("/health").status_code == 200


@pytest.mark.parametrize("stripped", [True, False], ids=["proxy-strips-prefix", "proxy-keeps-prefix"])
def test_x_forwarded_prefix(own_app, stripped):
    def edit(cfg):
        cfg.http.forwarded_prefix = True
    with TestClient(own_app(edit), base_url="https://maps.example.org") as c:
        tour(c, "" if stripped else PREFIX, "https://maps.example.org" + PREFIX, **{"X-Forwarded-Prefix": PREFIX + "/"})
        # without the header (a request straight to the server) links have no prefix
        assert c.get("/collections").json()["links"][0]["href"].startswith("https://maps.example.org/collections")
        r = c.get("/collections", headers={"X-Forwarded-Prefix": "https://evil.example/x"})
        assert r.status_code == 400 and r.json()["parameter"] == "X-Forwarded-Prefix"


def test_x_forwarded_prefix_is_ignored_unless_configured(own_app):
    with TestClient(own_app(lambda cfg: None)) as c:
        r = c.get("/collections", headers={"X-Forwarded-Prefix": "/elsewhere"})
        assert r.status_code == 200 and "/elsewhere" not in r.text


def test_base_url_with_a_path(own_app):
    public = "https://example.org/cubeserver"

    def edit(cfg):
        cfg.base_url = public + "/"
    with TestClient(own_app(edit)) as c:
        tour(c, "", public)


def test_guards_see_the_path_below_the_root(tmp_path):
    """Auth areas follow the route, not the raw path: under a root path data stays protected."""
    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    raw = {"state_dir": str(tmp_path / "state"), "collections": {"coads": {"path": str(DATASETS / "coads_sst.nc")}},
           "auth": {"api_keys": [{"name": "reader", "key": "k-123"}], "protect": ["data"]}}
    with TestClient(create_app(config_from_dict(raw, tmp_path)), root_path=PREFIX) as c:
        url = PREFIX + "/collections/coads/position?coords=POINT(-30 10)&parameter-name=SST"
        assert c.get(url).status_code == 401
        assert c.get(url, headers={"X-API-Key": "k-123"}).status_code == 200
