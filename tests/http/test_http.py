"""HTTP behaviour of the whole app: conditional GETs, gzip, Cache-Control, CORS, HEAD."""

from __future__ import annotations

import json
from email.utils import formatdate

import pytest

from cubeserver.config import config_from_dict
from tests.conftest import ROOT

CHUNK = "/collections/coads/zarr/SST/0.0.0"


def test_repeated_conditional_get_of_metadata_is_304(client):
    first = client.get("/collections")
    etag = first.headers["etag"]
    again = client.get("/collections", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get("/collections", headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_conditional_get_of_a_chunk_is_304_without_recomputing(client):
    reads = client.app.state.zarr.reads
    first = client.get(CHUNK)
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and first.headers["last-modified"]
    n = reads[("coads", "SST", "0.0.0")]
    again = client.get(CHUNK, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
    assert reads[("coads", "SST", "0.0.0")] == n, "a 304 must not compute the chunk"
    assert client.get(CHUNK).headers["etag"] == etag, "chunk ETags are stable"
    assert client.get("/collections/coads/zarr/AIRT/0.0.0").headers["etag"] != etag
    assert client.get(CHUNK, headers={"If-None-Match": f'"x", {etag}'}).status_code == 304


def test_if_modified_since(client):
    lm = client.get("/collections/coads/zarr/.zmetadata").headers["last-modified"]
    assert client.get("/collections/coads/zarr/.zmetadata", headers={"If-Modified-Since": lm}).status_code == 304
    old = formatdate(0, usegmt=True)
    assert client.get("/collections/coads/zarr/.zmetadata", headers={"If-Modified-Since": old}).status_code == 200


def test_gzip_on_big_json_with_distinct_etag(client):
    zipped = client.get("/collections", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/collections", headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert "accept-encoding" in zipped.headers["vary"].lower() and "accept-encoding" in plain.headers["vary"].lower()
    assert zipped.json() == plain.json()  # httpx decompresses
    assert int(zipped.headers["content-length"]) < len(plain.content)
    assert zipped.headers["etag"] != plain.headers["etag"]


def test_no_gzip_for_small_json_or_chunks(client):
    small = client.get("/collections/coads/zarr/.zgroup", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and "content-encoding" not in small.headers
    chunk = client.get(CHUNK, headers={"Accept-Encoding": "gzip"})
    assert chunk.status_code == 200 and "content-encoding" not in chunk.headers
    assert "accept-encoding" not in chunk.headers.get("vary", "").lower()


def test_gzip_refused_by_client(client):
    r = client.get("/collections", headers={"Accept-Encoding": "gzip;q=0, br"})
    assert r.headers["content-encoding"] == "br"  # the one it accepts
    r = client.get("/collections", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in r.headers


def test_cache_control_from_config(client, config):
    assert client.get("/collections").headers["cache-control"] == config.http.cache_control
    assert client.get(CHUNK).headers["cache-control"] == config.http.cache_control
    assert "cache-control" not in client.get("/collections/nope").headers


def test_head_has_get_headers_and_no_body(client):
    get = client.get("/collections/coads/zarr/.zmetadata")
    head = client.head("/collections/coads/zarr/.zmetadata")
    assert head.status_code == 200 and head.content == b""
    for h in ("etag", "content-length", "content-type", "cache-control"):
        assert head.headers[h] == get.headers[h]
    assert client.head("/conformance").status_code == 200


def test_cors_preflight_default_allows_any_origin(client):
    r = client.options("/collections/coads/zarr/.zmetadata", headers={
        "Origin": "https://notebook.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match, range"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "GET" in r.headers["access-control-allow-methods"]
    assert "if-none-match" in r.headers["access-control-allow-headers"].lower()
    get = client.get("/collections", headers={"Origin": "https://notebook.example"})
    assert get.headers["access-control-allow-origin"] == "*"
    assert "etag" in get.headers["access-control-expose-headers"].lower()


@pytest.fixture(scope="module")
def strict_client(tmp_path_factory):
    """An app that allows one origin only, gzips from 100 bytes and sets its own Cache-Control."""
    from fastapi.testclient import TestClient

    from cubeserver.app import create_app

    raw = {"state_dir": str(tmp_path_factory.mktemp("state")),
           "collections": {"coads": {"path": "datasets/coads_sst.nc"}},
           "http": {"cors_origins": ["https://notebook.example"], "gzip_min_size": 100, "cache_control": "no-cache"}}
    with TestClient(create_app(config_from_dict(raw, ROOT))) as c:
        yield c


def test_cors_configured_origins(strict_client):
    ok = strict_client.options("/collections", headers={"Origin": "https://notebook.example",
                                                        "Access-Control-Request-Method": "GET"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://notebook.example"
    bad = strict_client.options("/collections", headers={"Origin": "https://evil.example",
                                                         "Access-Control-Request-Method": "GET"})
    assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
    plain = strict_client.get("/collections", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_configured_threshold_and_cache_control(strict_client):
    r = strict_client.get("/collections/coads/zarr/COADSX/.zarray", headers={"Accept-Encoding": "gzip"})
    assert len(r.content) > 100 and r.headers["content-encoding"] == "gzip"
    assert json.loads(r.content)["shape"] == [180]
    assert r.headers["cache-control"] == "no-cache"


def test_gzip_bytes_are_deterministic(client):
    a = client.get("/collections", headers={"Accept-Encoding": "gzip"})
    b = client.get("/collections", headers={"Accept-Encoding": "gzip"})
    assert a.headers["etag"] == b.headers["etag"]
