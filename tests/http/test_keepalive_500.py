"""An unexpected exception is a JSON OGC 500 and the keep-alive connection survives it.

Starlette's last-resort handler answers and then re-raises, and uvicorn drops the connection of an
app that raised; cubeserver.errors.CatchAll answers without re-raising. Real uvicorn, real socket.
"""

from __future__ import annotations

import http.client
import json

import pytest

from tests.conftest import DATASETS, serve_in_thread


class Boom(Exception):
    pass


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    tmp = tmp_path_factory.mktemp("boom")
    app = create_app(config_from_dict({"state_dir": str(tmp / "state"),
                                       "collections": {"coads": {"path": str(DATASETS / "coads_sst.nc")}}}, tmp))

    @app.get("/boom", include_in_schema=False)
    def boom():  # a sync route (thread pool) ...
        raise Boom("/secret/path/in/a/traceback")

    @app.get("/aboom", include_in_schema=False)
    async def aboom():  # ... and an async one
        raise Boom("/secret/path/in/a/traceback")

    with serve_in_thread(app) as url:
        yield url


@pytest.mark.parametrize("path", ["/boom", "/aboom"])
def test_unhandled_exception_is_a_json_500_on_a_kept_alive_connection(base, path):
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", "/health")
        assert conn.getresponse().read() and conn.sock is not None
        sock = conn.sock
        conn.request("GET", path)
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 500 and r.getheader("content-type") == "application/json"
        assert body["status"] == 500 and body["type"].endswith("/ServerError") and "secret" not in json.dumps(body)
        assert (r.getheader("connection") or "").lower() != "close"
        assert conn.sock is sock  # http.client did not see the connection closed
        conn.request("GET", "/health")  # the same socket carries the next request
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read())["status"] == "pass"
        assert conn.sock is sock
    finally:
        conn.close()
