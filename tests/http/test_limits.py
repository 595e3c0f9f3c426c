"""Request limits (issue 13, point 2): URL length 414, body size 413 (declared or counted while
read), non-JSON bodies 415; over a real server socket, where the HTTP parser's own limits apply."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import httpx
import pytest

from cubeserver.config import LimitsConfig
from tests.conftest import DATASETS, client_for

DEFAULT = LimitsConfig()
EXECUTE = "/processes/echo/execution"


def raw_get(base: str, target: str) -> tuple[int, bytes]:
    """A GET with a request line of any length, as a real client sends it."""
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", target)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def jobs_count(base: str) -> int:
    return httpx.get(base + "/jobs?limit=1").json()["numberMatched"]


def test_url_over_the_limit_is_414_not_a_reset(live_server):
    n = DEFAULT.max_url_bytes + 1000  # past our limit, within what the parser lets through
    status, body = raw_get(live_server, "/collections/coads/position?coords=POINT(0%200)&x=" + "a" * n)
    assert status == 414
    doc = httpx.Response(status, content=body).json()
    assert doc["parameter"] == "url" and str(DEFAULT.max_url_bytes) in doc["detail"]


def test_url_under_the_limit_is_served(live_server):
    # a long but legal polygon: 2 000 vertices of a circle-ish ring stays under the limit
    import math
    ring = [(10 + 5 * math.cos(a / 300), 50 + 5 * math.sin(a / 300)) for a in range(1885)]
    wkt = "POLYGON((" + ",".join(f"{x:.4f} {y:.4f}" for x, y in ring + ring[:1]) + "))"
    target = f"/collections/coads/area?coords={wkt}&parameter-name=SST&datetime=2000-01-16T06:00:00Z"
    assert len(target) < DEFAULT.max_url_bytes
    status, body = raw_get(live_server, target.replace(" ", "%20"))
    assert status == 200, body[:300]


def test_declared_body_over_the_limit_is_413_before_reading(live_server):
    before = jobs_count(live_server)
    big = b'{"inputs": {"message": "' + b"x" * (DEFAULT.max_body_bytes + 10) + b'"}}'
    r = httpx.post(live_server + EXECUTE, content=big, headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 413 and r.json()["parameter"] == "body"
    assert jobs_count(live_server) == before  # nothing was stored


def test_chunked_body_over_the_limit_is_413_while_reading(live_server):
    before = jobs_count(live_server)
    piece = b"x" * (1024 * 1024)

    def body():  # no Content-Length: httpx sends Transfer-Encoding: chunked
        yield b'{"inputs": {"message": "'
        for _ in range(DEFAULT.max_body_bytes // len(piece) + 2):
            yield piece
        yield b'"}}'

    r = httpx.post(live_server + EXECUTE, content=body(), headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 413, r.text[:300]
    assert jobs_count(live_server) == before


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x", None])
def test_execute_with_a_non_json_body_is_415(client, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    r = client.post(EXECUTE, content=b'{"inputs": {"message": "hi"}}', headers=headers)
    assert r.status_code == 415, r.text
    doc = r.json()
    assert doc["parameter"] == "Content-Type" and "application/json" in doc["detail"]


@pytest.mark.parametrize("ctype", ["application/json", "application/json; charset=utf-8", "application/ld+json"])
def test_json_media_types_are_accepted(client, ctype):
    r = client.post(EXECUTE, content=b'{"inputs": {"message": "hi"}}', headers={"Content-Type": ctype})
    assert r.status_code == 200, r.text


def test_limits_are_configurable(tmp_path):
    coads = {"coads": {"path": str(DATASETS / "coads_sst.nc")}}
    with client_for(coads, tmp_path, limits={"max_body_bytes": 100, "max_url_bytes": 200}) as c:
        assert c.get("/collections?" + "a=1&" * 60).status_code == 414
        assert c.get("/collections").status_code == 200
        r = c.post(EXECUTE, json={"inputs": {"message": "y" * 200}})
        assert r.status_code == 413 and "100" in r.json()["detail"]
        assert c.post(EXECUTE, json={"inputs": {"message": "ok"}}).status_code == 200
