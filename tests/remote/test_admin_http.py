"""`curl -X POST .../admin/reload` as the README writes it: a POST with no body and no Content-Length (httpx's
TestClient always sends `Content-Length: 0`, so this runs a real uvicorn server and speaks raw HTTP)."""

from __future__ import annotations

import http.client
import json
import threading
import time

from tests.conftest import DATASETS, free_port
from tests.remote.conftest import remote_config

ADMIN = "admin-key-for-a-raw-post"
AUTH = {"api_keys": [{"name": "ops", "key": ADMIN, "roles": ["admin"]},
                     {"name": "bob", "key": "bob-key-no-role", "roles": []}], "admin_role": "admin"}


def _post(port: int, path: str, headers: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("POST", path)  # putrequest adds no Content-Length: what curl -X POST without -d sends
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


def test_bodyless_post_reload_is_not_415(tmp_path):
    import uvicorn

    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict
    from cubeserver.registry import Registry

    config = config_from_dict(remote_config(tmp_path, {"coads": {"path": str(DATASETS / "coads_sst.nc")}},
                                            auth=AUTH), tmp_path)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(config, Registry(config, skip_broken=False)), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started:
                break
            time.sleep(0.1)
        assert _post(port, "/admin/reload", {})[0] == 401
        assert _post(port, "/admin/reload", {"X-API-Key": "bob-key-no-role"})[0] == 403
        status, body = _post(port, "/admin/reload?collection=coads", {"X-API-Key": ADMIN})
        assert status == 200, body
        assert body["reloaded"] == ["coads"]
        status, body = _post(port, "/admin/reload", {"X-API-Key": ADMIN, "Content-Type": "text/plain",
                                                     "Transfer-Encoding": "chunked"})
        assert status == 415, body  # a body that is not JSON is still refused
    finally:
        server.should_exit = True
        thread.join(30)
