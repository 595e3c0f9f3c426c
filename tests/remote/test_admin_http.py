"""`curl -X POST .../admin/reload` as the README writes it: a POST with no body and no Content-Length (httpx's
TestClient always sends `Content-Length: 0`, so this speaks raw HTTP to a real uvicorn server); the events
stream refuses an Accept header that rules out text/event-stream."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from tests.conftest import DATASETS, serve_in_thread
from tests.remote.conftest import app_client, remote_config

ADMIN = "admin-key-for-a-raw-post"
AUTH = {"api_keys": [{"name": "ops", "key": ADMIN, "roles": ["admin"]},
                     {"name": "bob", "key": "bob-key-no-role", "roles": []}], "admin_role": "admin"}


def _post(base: str, path: str, headers: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=30)
    try:
        conn.putrequest("POST", path)  # putrequest adds no Content-Length: what curl -X POST without -d sends
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


def _config(tmp_path):
    return remote_config(tmp_path, {"coads": {"path": str(DATASETS / "coads_sst.nc")}}, auth=AUTH)


def test_bodyless_post_reload_is_not_415(tmp_path):
    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    app = create_app(config_from_dict(_config(tmp_path), tmp_path))
    try:
        with serve_in_thread(app) as base:
            assert _post(base, "/admin/reload", {})[0] == 401
            assert _post(base, "/admin/reload", {"X-API-Key": "bob-key-no-role"})[0] == 403
            status, body = _post(base, "/admin/reload?collection=coads", {"X-API-Key": ADMIN})
            assert status == 200, body
            assert body["reloaded"] == ["coads"]
            status, body = _post(base, "/admin/reload", {"X-API-Key": ADMIN, "Content-Type": "text/plain",
                                                         "Transfer-Encoding": "chunked"})
            assert status == 415, body  # a body that is not JSON is still refused
    finally:
        app.state.ctx.registry.close()


def test_events_with_an_accept_that_rules_out_event_stream_is_406(tmp_path):
    with app_client(_config(tmp_path), tmp_path) as c:
        r = c.get("/collections/coads/events", headers={"Accept": "application/json"})
        assert r.status_code == 406, r.text[:300]
        assert r.json()["code"] == "NotAcceptable" and "text/event-stream" in r.json()["detail"]
        r = c.get("/collections/coads/events", headers={"Accept": "text/event-stream;q=0, application/json"})
        assert r.status_code == 406
        assert c.get("/collections/nope/events", headers={"Accept": "application/json"}).status_code == 404


def test_reload_collection_parameter_repeated_or_empty(tmp_path):
    cols = {"a": {"path": str(DATASETS / "coads_sst.nc")}, "b": {"path": str(DATASETS / "coads_sst.nc")},
            "c": {"path": str(DATASETS / "coads_sst.nc")}}
    with app_client(remote_config(tmp_path, cols, auth=AUTH), tmp_path) as c:
        key = {"X-API-Key": ADMIN}
        r = c.post("/admin/reload?collection=a&collection=b", headers=key)
        assert r.status_code == 200, r.text
        assert sorted(r.json()["reloaded"]) == ["a", "b"]  # both, not only the last one
        for q in ("collection=", "collection=,,"):
            r = c.post(f"/admin/reload?{q}", headers=key)
            assert r.status_code == 400 and r.json()["parameter"] == "collection", (q, r.text)
        r = c.post("/admin/reload?collection=a&collection=nope", headers=key)
        assert r.status_code == 404
        assert sorted(c.post("/admin/reload", headers=key).json()["reloaded"]) == ["a", "b", "c"]
