"""The `mcp` config section, the data rate limit on tools, and where /mcp is (not) mounted (in process)."""

from __future__ import annotations

import anyio
import pytest

from tests.conftest import DATASETS
from tests.mcp.conftest import run


def _app(tmp_path, **server):
    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    raw = {"state_dir": str(tmp_path / "state"), "collections": {"coads": {"path": str(DATASETS / "coads_sst.nc")}},
           **server}
    return create_app(config_from_dict(raw, tmp_path))


@pytest.mark.parametrize("section, line", [
    ({"max_values": 5}, "mcp.max_values: Input should be greater than or equal to 10"),
    ({"nope": 1}, "mcp.nope: unknown key"),
])
def test_bad_mcp_section_is_one_config_line(tmp_path, section, line):
    from cubeserver.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError) as e:
        config_from_dict({"mcp": section, "collections": {}}, tmp_path)
    assert line in e.value.problems


def test_data_rate_counts_tool_calls(tmp_path):
    """limits.data_rate applies to the data tools as to EDR queries (429 wording of the HTTP API)."""
    from mcp import Client

    app = _app(tmp_path, limits={"data_rate": "2/minute", "execute_rate": None})
    server, _ = app.state.ctx.services["mcp"]
    args = {"collection": "coads", "lon": -29.4, "lat": 41.3, "variables": ["SST"]}

    async def go():
        async with Client(server) as c:
            out = [await c.call_tool("point_series", args) for _ in range(3)]
            out.append(await c.call_tool("describe_collection", {"collection": "coads"}))  # metadata: not counted
            return out
    first, second, third, meta = run(go)
    assert not first.is_error and not second.is_error and not meta.is_error
    assert third.is_error and third.content[0].text.startswith("Too Many Requests (429): data: more than 2 per 1 minute")
    assert third.structured_content["status"] == 429


def test_endpoint_mounted_but_not_in_openapi(tmp_path):
    app = _app(tmp_path)
    assert "/mcp" in [getattr(r, "path", None) for r in app.router.routes]
    assert "/mcp" not in app.openapi()["paths"]
    off = _app(tmp_path, mcp={"enabled": False})
    assert "/mcp" not in [getattr(r, "path", None) for r in off.router.routes]
    assert "mcp" in off.state.ctx.services  # stdio still works


def test_features_query_never_exceeds_max_values(tmp_path):
    """The first feature used to come back whatever its size: with mcp.max_values 10, a place of 38 properties
    answered 40 values. Now: a 413 saying how to narrow it; with fewer properties, the features that fit."""
    import json

    from mcp import Client

    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    places = DATASETS / "ne_110m_populated_places_simple.geojson"
    raw = {"state_dir": str(tmp_path / "state"), "mcp": {"max_values": 10}, "collections": {"places": {"path": str(places)}}}
    server, _ = create_app(config_from_dict(raw, tmp_path)).state.ctx.services["mcp"]
    first = json.loads(places.read_text())["features"][0]["properties"]

    async def go():
        async with Client(server) as c:
            return (await c.call_tool("features_query", {"collection": "places"}),
                    await c.call_tool("features_query", {"collection": "places", "properties": ["name", "pop_max"]}))
    wide, slim = run(go)
    assert wide.is_error and wide.structured_content["status"] == 413
    assert wide.content[0].text.startswith(f"Payload Too Large (413): properties: one feature has {len(first) + 2} values")
    assert "mcp.max_values = 10" in wide.content[0].text
    out = slim.structured_content
    assert not slim.is_error and out["number_returned"] == 2 and out["truncated"] and out["next_offset"] == 2
    assert sum(len(f["properties"]) + len(f["coordinates"]) for f in out["features"]) <= 10


def test_waiting_for_a_job_holds_no_worker_thread(tmp_path):
    """execute_process with wait: true used to block a worker thread until the job ended (future.result()); the
    default pool has cpu+4 threads, so a few waiting agents stalled every data query. Now it waits on the event
    loop, as the HTTP synchronous execution does: with one worker thread, a data call still answers while a job
    is being waited for."""
    import asyncio
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from mcp import Client

    from cubeserver.processes.base import Process
    from cubeserver.processes.results import Output

    gate = threading.Event()

    class Gate(Process):
        id, title, description = "gate", "Gate", "ends when the test opens the gate"
        inputs = {}
        outputs = {"done": {"title": "Done", "description": "", "schema": {"type": "string"}}}

        def execute(self, params, job):
            gate.wait(60)
            return {"done": Output(value="open", media_type="application/json")}

    app = _app(tmp_path, limits={"execute_rate": None})
    ctx = app.state.ctx
    ctx.services["jobs"].processes["gate"] = Gate()
    server, _ = ctx.services["mcp"]

    async def go():
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(1))
        async with app.router.lifespan_context(app):
            async with Client(server) as c:
                waiting = asyncio.ensure_future(c.call_tool("execute_process", {"process_id": "gate", "inputs": {},
                                                                                "wait": True}))
                await asyncio.sleep(0.5)
                try:
                    with anyio.fail_after(20):
                        meanwhile = await c.call_tool("point_series", {"collection": "coads", "lon": -29.4,
                                                                       "lat": 41.3, "variables": ["SST"]})
                    ended_first = waiting.done()
                finally:
                    gate.set()
                return meanwhile, ended_first, await waiting
    meanwhile, ended_first, job = run(go)
    assert not meanwhile.is_error and not ended_first
    assert not job.is_error and job.structured_content["status"] == "successful"
