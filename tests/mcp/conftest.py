"""MCP tests: the real CLI serving a small config (with auth and a private collection) over HTTP, and
`cubeserver mcp` over stdio, both driven by the official SDK client (`mcp.Client`)."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
import yaml

from tests.conftest import DATASETS, ROOT, start_server

ALICE = "alice-key-0123456789"  # roles [analyst]: sees the private collection
BOB = "bob-key-0123456789"  # no role: signed in, does not see it
MAX_VALUES = 300
MAX_CELLS = 20_000


def write_config(tmp: Path) -> Path:
    cfg = {
        "title": "cubeserver MCP test",
        "state_dir": str(tmp / "state"),
        "auth": {"api_keys": [{"name": "alice", "key": ALICE, "roles": ["analyst"]},
                              {"name": "bob", "key": BOB, "roles": []}],
                 "protect": ["processes", "jobs"]},
        "limits": {"execute_rate": None, "max_cells": MAX_CELLS},
        "mcp": {"max_values": MAX_VALUES, "max_features": 50},
        "dask": {"workers": 1},
        "collections": {
            "coads": {"path": str(DATASETS / "coads_sst.nc"), "title": "COADS climatology",
                      "keywords": ["sst", "ocean"]},
            "cmip6-ta": {"path": str(DATASETS / "cmip6_awi_ta" / "*.nc"), "title": "CMIP6 air temperature"},
            "eraint": {"path": str(DATASETS / "eraint_uvz.nc"), "title": "ERA-Interim (extra dimension month)"},
            "basin-mask": {"path": str(DATASETS / "basin_mask.nc"), "axes": {"z_positive": "down"},
                           "title": "World Ocean Atlas basin mask"},
            "places": {"path": str(DATASETS / "ne_110m_populated_places_simple.geojson"), "title": "Places"},
            "embargoed": {"path": str(DATASETS / "coads_sst.nc"), "title": "Embargoed run",
                          "access": {"roles": ["analyst"]}},
        },
    }
    path = tmp / "mcp.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="session")
def mcp_config(tmp_path_factory) -> Path:
    return write_config(tmp_path_factory.mktemp("mcp"))


@pytest.fixture(scope="session")
def mcp_server(mcp_config):
    """`cubeserver serve --config mcp.yaml` on a free port; yields its base URL."""
    tmp = mcp_config.parent
    proc, base = start_server(mcp_config, tmp, {"PYTHONPATH": str(ROOT)})
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@asynccontextmanager
async def http_client(base: str, key: str | None = None, mode: str = "auto"):
    """The SDK's client on `{base}/mcp` over Streamable HTTP, as the holder of `key` (a bearer token);
    `mode` "legacy": the 2025 protocol's initialize handshake."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    headers = {"Authorization": f"Bearer {key}"} if key else None
    async with create_mcp_http_client(headers=headers) as hc:
        async with Client(streamable_http_client(f"{base}/mcp", http_client=hc), mode=mode) as client:
            yield client


@asynccontextmanager
async def stdio_client(config: Path, key: str | None = None):
    """The SDK's client on `python -m cubeserver.cli mcp --config FILE` (a subprocess on stdio)."""
    from mcp import Client, StdioServerParameters

    env = {k: v for k, v in os.environ.items() if k != "CUBESERVER_MCP_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    if key:
        env["CUBESERVER_MCP_TOKEN"] = key
    params = StdioServerParameters(command=sys.executable, args=["-m", "cubeserver.cli", "mcp", "--config", str(config)],
                                   env=env, cwd=str(ROOT))
    async with Client(params, read_timeout_seconds=120) as client:
        yield client


def run(fn):
    """Run an async test body (the SDK client is async)."""
    return anyio.run(fn)


def data(result) -> dict:
    """The structured content of a successful tool call."""
    assert not result.is_error, result.content[0].text
    return result.structured_content


__all__ = ["ALICE", "BOB", "MAX_VALUES", "MAX_CELLS", "http_client", "stdio_client", "run", "data", "write_config"]
