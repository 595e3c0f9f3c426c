"""The agent is the token it connects with: private collections, protected areas and job ownership as on
HTTP; and the same server over stdio (`python -m cubeserver.cli mcp --config FILE`)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import open_source
from tests.mcp.conftest import ALICE, BOB, data, http_client, run, stdio_client
from tests.mcp.test_http_tools import TOOLS, _nearest, _wait, call


def _ids(out) -> set[str]:
    return {c["id"] for c in out["collections"]}


def test_private_collection_only_for_its_role(mcp_server):
    assert "embargoed" not in _ids(data(call(mcp_server, "list_collections", {})))
    assert "embargoed" not in _ids(data(call(mcp_server, "list_collections", {}, BOB)))
    assert "embargoed" in _ids(data(call(mcp_server, "list_collections", {}, ALICE)))
    # invisible means: the same 404 as a collection that does not exist
    hidden = call(mcp_server, "describe_collection", {"collection": "embargoed"}, BOB)
    absent = call(mcp_server, "describe_collection", {"collection": "absent"}, BOB)
    assert hidden.is_error and absent.is_error
    assert hidden.content[0].text == absent.content[0].text.replace("absent", "embargoed")
    r = call(mcp_server, "point_series", {"collection": "embargoed", "lon": -29.4, "lat": 41.3})
    assert r.is_error and r.structured_content["status"] == 404
    out = data(call(mcp_server, "point_series", {"collection": "embargoed", "lon": -29.4, "lat": 41.3,
                                                 "variables": ["SST"]}, ALICE))
    ds = open_source("coads_sst.nc")
    truth = ds.SST.isel(COADSX=_nearest(ds.COADSX, -29.4), COADSY=_nearest(ds.COADSY, 41.3)).values
    np.testing.assert_allclose(out["series"][0]["values"], truth, rtol=1e-6)

    async def resource():
        async with http_client(mcp_server, BOB) as c:
            try:
                await c.read_resource("cubeserver://collections/embargoed")
            except Exception as e:  # noqa: BLE001 - the SDK raises MCPError for a resource error
                return str(e)
        return None
    assert "Not Found (404): no collection 'embargoed'" in (run(resource) or "")


def test_wrong_token_is_refused_at_the_door(mcp_server):
    async def go():
        async with http_client(mcp_server, "not-a-key") as c:
            await c.list_tools()
    with pytest.raises(Exception):
        run(go)


def test_protected_areas_and_job_ownership(mcp_server):
    r = call(mcp_server, "execute_process", {"process_id": "echo", "inputs": {"message": "x"}})
    assert r.is_error
    assert r.content[0].text.startswith("Unauthorized (401): processes: sign in")
    job = data(call(mcp_server, "execute_process", {"process_id": "echo", "inputs": {"message": "mine"}}, ALICE))
    assert _wait(mcp_server, job["job_id"], ALICE)["status"] == "successful"
    other = call(mcp_server, "job_status", {"job_id": job["job_id"]}, BOB)
    assert other.is_error and other.structured_content["status"] == 404
    anon = call(mcp_server, "job_results", {"job_id": job["job_id"]})
    assert anon.is_error and anon.structured_content["status"] == 401
    # a bad input: the process's own 400 naming it
    bad = call(mcp_server, "execute_process", {"process_id": "echo", "inputs": {"nope": 1}}, ALICE)
    assert bad.is_error and bad.structured_content["parameter"] == "nope"


def test_stdio_with_a_token(mcp_config):
    async def go():
        async with stdio_client(mcp_config, ALICE) as c:
            tools = {t.name for t in (await c.list_tools()).tools}
            listed = await c.call_tool("list_collections", {})
            series = await c.call_tool("point_series", {"collection": "embargoed", "lon": -29.4, "lat": 41.3,
                                                        "variables": ["AIRT"]})
            job = await c.call_tool("execute_process", {"process_id": "echo", "inputs": {"message": "stdio"},
                                                        "wait": True})
            return tools, listed, series, job
    tools, listed, series, job = run(go)
    assert tools == TOOLS
    assert "embargoed" in _ids(data(listed))
    ds = open_source("coads_sst.nc")
    truth = ds.AIRT.isel(COADSX=_nearest(ds.COADSX, -29.4), COADSY=_nearest(ds.COADSY, 41.3)).values
    out = data(series)
    np.testing.assert_allclose(out["series"][0]["values"], truth, rtol=1e-6)
    assert out["edr_url"].startswith("http://127.0.0.1:8000/collections/embargoed/position?")
    assert data(job)["status"] == "successful"


def test_stdio_without_a_token_is_anonymous(mcp_config):
    async def go():
        async with stdio_client(mcp_config) as c:
            return (await c.call_tool("list_collections", {}),
                    await c.call_tool("execute_process", {"process_id": "echo", "inputs": {"message": "x"}}))
    listed, refused = run(go)
    assert "embargoed" not in _ids(data(listed)) and "coads" in _ids(data(listed))
    assert refused.is_error and refused.structured_content["status"] == 401


def test_identity_with_a_handshake_era_client(mcp_server):
    """The 2025 protocol (initialize, then stateless POSTs): each call still runs as its bearer token."""
    async def go(key):
        async with http_client(mcp_server, key, mode="legacy") as c:
            return await c.call_tool("list_collections", {})
    assert "embargoed" in _ids(data(run(lambda: go(ALICE))))
    assert "embargoed" not in _ids(data(run(lambda: go(BOB))))


def test_stdio_refuses_a_wrong_token(mcp_config):
    """A credential that is not valid stops `cubeserver mcp` at start (exit 2, one line on stderr, stdout clean)."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUBESERVER_MCP_TOKEN": "not-a-key"}
    p = subprocess.run([sys.executable, "-m", "cubeserver.cli", "mcp", "--config", str(mcp_config)], env=env,
                       cwd=str(ROOT), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert p.returncode == 2
    assert "CUBESERVER_MCP_TOKEN: the credential is not valid" in p.stderr
    assert p.stdout == ""


def test_stdio_refuses_a_wrong_token_before_opening_collections(mcp_config, tmp_path):
    """The credential is checked first: with a collection whose source is missing in the config, a wrong token
    is still what `cubeserver mcp` reports (it used to open every collection, seconds, before looking)."""
    import os
    import subprocess
    import sys

    import yaml

    from tests.conftest import ROOT

    cfg = yaml.safe_load(mcp_config.read_text())
    cfg["collections"]["gone"] = {"path": str(tmp_path / "missing.nc")}
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUBESERVER_MCP_TOKEN": "not-a-key"}
    p = subprocess.run([sys.executable, "-m", "cubeserver", "mcp", "--config", str(broken)], env=env,
                       cwd=str(mcp_config.parent), capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       timeout=300)
    assert p.returncode == 2, p.stderr[-500:]
    assert "CUBESERVER_MCP_TOKEN: the credential is not valid" in p.stderr
    assert "gone" not in p.stderr and p.stdout == ""


def test_list_collections_pages_what_the_caller_may_see(mcp_server):
    """Paged like /collections (each gridded job result adds a collection for its owner); the pages together are
    exactly the caller's /collections, private ones included only for their role."""
    import requests

    for key, private in ((ALICE, True), (BOB, False)):
        http = requests.get(f"{mcp_server}/collections", params={"f": "json"}, headers={"X-API-Key": key}, timeout=60)
        expected = [c["id"] for c in http.json()["collections"]]
        ids, offset, calls = [], 0, 0
        while offset is not None:
            page = data(call(mcp_server, "list_collections", {"limit": 2, "offset": offset}, key))
            assert len(page["collections"]) <= 2 and page["matched"] == len(expected)
            ids += [c["id"] for c in page["collections"]]
            offset, calls = page.get("next_offset"), calls + 1
            assert calls < 20
        assert ids == expected and ("embargoed" in ids) is private
        assert calls == -(-len(expected) // 2)
