"""Caches and content negotiation: Vary names Accept where Accept picks the format; JSON-only resources."""

from __future__ import annotations

import pytest


def _vary(r) -> set[str]:
    return {v.strip().lower() for v in r.headers.get("vary", "").split(",") if v.strip()}


@pytest.mark.parametrize("path", ["/", "/collections/places/items", "/collections/coads/position?coords=POINT(0%200)",
                                  "/collections/coads/coverage?f=netcdf"])
def test_negotiated_answers_vary_on_accept(client, path):
    r = client.get(path)
    assert r.status_code == 200 and "accept" in _vary(r)
    again = client.get(path, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and "accept" in _vary(again)


def test_accept_picks_different_bodies_under_one_url(client):
    url = "/collections/coads/position?coords=POINT(-30%2040)"
    cov = client.get(url, headers={"Accept": "application/prs.coverage+json"})
    nc = client.get(url, headers={"Accept": "application/x-netcdf"})
    assert cov.headers["content-type"] != nc.headers["content-type"] and cov.headers["etag"] != nc.headers["etag"]


def test_zarr_keys_do_not_vary_on_accept(client):
    r = client.get("/collections/coads/zarr/.zmetadata")
    assert r.status_code == 200 and "accept" not in _vary(r)


@pytest.mark.parametrize("path", ["/collections/coads/coverage/domainset", "/collections/coads/coverage/rangetype",
                                  "/collections/coads/schema"])
def test_json_only_resources_negotiate(client, path):
    assert client.get(path, headers={"Accept": "text/html"}).status_code == 406
    assert client.get(path, headers={"Accept": "text/html,*/*;q=0.8"}).status_code == 200
    assert client.get(path, headers={"Accept": "application/json"}).status_code == 200
    assert client.get(path, params={"f": "html"}).status_code == 400


def test_schema_accepts_its_own_media_type(client):
    r = client.get("/collections/coads/schema", headers={"Accept": "application/schema+json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/schema+json")


def test_observed_property_uris_are_valid(client):
    """mur-sst's sea_ice_fraction has standard_name 'sea ice area fraction' (spaces): no URI is made of it."""
    fields = client.get("/collections/mur-sst/coverage/rangetype").json()["field"]
    for f in fields:
        if "observedProperty" in f:
            assert " " not in f["observedProperty"] and f["observedProperty"].startswith("http://vocab.nerc.ac.uk/")
    ice = next(f for f in fields if f["name"] == "sea_ice_fraction")
    assert "observedProperty" not in ice
    sst = next(f for f in fields if f["name"] == "analysed_sst")
    assert sst["observedProperty"].endswith("/sea_surface_foundation_temperature/")


@pytest.mark.parametrize("method,path,allow", [
    ("PUT", "/jobs/abc", "DELETE, GET, HEAD"),
    ("POST", "/collections", "GET, HEAD"),
    ("DELETE", "/processes/echo/execution", "POST"),
    ("PUT", "/collections/coads/position", "GET, HEAD"),
])
def test_405_allow_lists_every_method_of_the_path(client, method, path, allow):
    r = client.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow
    assert r.json()["detail"].endswith(f"allowed: {allow}")


def test_every_data_query_link_type_is_what_that_url_serves(client):
    """Following a data_queries link with its own `type` as Accept must not be refused (406)."""
    links = client.get("/collections/coads").json()["data_queries"]
    loc = links["locations"]["link"]
    r = client.get(loc["href"].replace("http://testserver", ""), headers={"Accept": loc["type"]})
    assert r.status_code == 200 and r.headers["content-type"].startswith(loc["type"])
    pos = links["position"]["link"]
    r = client.get(pos["href"].replace("http://testserver", ""), params={"coords": "POINT(-30 40)"},
                   headers={"Accept": pos["type"]})
    assert r.status_code == 200 and r.headers["content-type"].startswith(pos["type"])
