"""Arguments the tools refuse, over Streamable HTTP at /mcp of a live server: in the OGC wording of every other
tool error (what was wrong, what is allowed), never the SDK's pydantic dump; and what render_map says it drew."""

from __future__ import annotations

import base64
import io
import math

import anyio
import numpy as np
import requests
import shapely
from PIL import Image

from tests.conftest import open_source
from tests.mcp.conftest import data, http_client
from tests.mcp.test_http_tools import TOOLS, _nearest, call


def refused(result, status: int = 400) -> str:
    """The text of a tool error with the OGC exception body as structured content; no SDK internals in it."""
    assert result.is_error
    text = result.content[0].text
    body = result.structured_content
    assert body["status"] == status and body["detail"] in text
    assert text.startswith(f"{body['title']} ({status}): ")
    for internal in ("validation error", "Arguments", "pydantic", "errors.pydantic.dev", "Error executing tool",
                     "Traceback", "/work", "site-packages"):
        assert internal not in text, (internal, text)
    return text


def test_schema_violations_name_the_argument_and_what_it_allows(mcp_server):
    r = call(mcp_server, "point_series", {"collection": "coads", "lon": 500, "lat": 40})
    text = refused(r)
    assert r.structured_content["parameter"] == "lon"
    assert "point_series: lon (longitude, degrees east (WGS 84)): should be less than or equal to 360 (got 500)" in text
    r = call(mcp_server, "point_series", {"collection": "coads", "lat": "north"})
    text = refused(r)
    assert "missing lon (required: collection, lon, lat)" in text and "should be a valid number" in text
    assert '(got "north")' in text and r.structured_content["parameter"] == "lon"
    r = call(mcp_server, "area_statistics", {"collection": "coads"})
    assert "give either polygon" in refused(r) and "neither was given" in refused(r)
    r = call(mcp_server, "area_statistics", {"collection": "coads", "bbox": [-40, 30, -20, 50],
                                             "polygon": "POLYGON((-40 30,-20 30,-20 50,-40 30))"})
    assert "both were given" in refused(r)
    r = call(mcp_server, "area_statistics", {"collection": "coads", "bbox": [-40, 30, -20]})
    assert "bbox ([west, south, east, north] in degrees): list should have at least 4 items" in refused(r)
    r = call(mcp_server, "list_collections", {"kind": "grids"})
    assert "kind: should be 'coverage' or 'features' (got \"grids\")" in refused(r)
    # a union of types: one line saying which types are allowed, not one error per member
    r = call(mcp_server, "features_query", {"collection": "places", "filters": {"name": ["Paris", "Lyon"]}})
    text = refused(r)
    assert "filters.name: should be a valid string or a valid number or a valid integer or a valid boolean" in text
    assert r.structured_content["parameter"] == "filters"
    r = call(mcp_server, "execute_process", {"process_id": "echo", "inputs": "hello"})
    assert "inputs (input id -> value (describe_process)): should be a valid dictionary" in refused(r)


def test_unknown_argument_and_unknown_tool(mcp_server):
    """A misspelt argument is refused (it used to be ignored: `variable` meant every variable), like an unknown
    query parameter on HTTP; an unknown tool is a 404 listing the tools."""
    r = call(mcp_server, "point_series", {"collection": "coads", "lon": -30, "lat": 40, "variable": "SST"})
    text = refused(r)
    assert text.startswith("Bad Request (400): unknown argument 'variable' for point_series; accepted: collection, "
                           "lon, lat, variables, datetime, z, extra")
    assert r.structured_content["parameter"] == "variable"
    r = call(mcp_server, "get_weather", {"city": "Paris"})
    text = refused(r, 404)
    assert "no tool 'get_weather'; tools: " in text and all(t in text for t in TOOLS)


def test_extra_takes_only_extra_dimensions(mcp_server):
    """`extra` used to pass any EDR parameter on: {"coords": ...} silently replaced lon/lat (the answer named
    the asked point and gave another cell's values)."""
    r = call(mcp_server, "point_series", {"collection": "coads", "lon": -30, "lat": 40, "variables": ["SST"],
                                          "extra": {"coords": "POINT(100 10)"}})
    text = refused(r)
    assert "extra: 'coords' is not an extra dimension of 'coads'; it has no extra dimension" in text
    assert r.structured_content["parameter"] == "extra"
    r = call(mcp_server, "area_statistics", {"collection": "eraint", "bbox": [0, 0, 10, 10], "z": 850,
                                             "extra": {"f": "netcdf"}})
    assert "its extra dimensions are month" in refused(r)
    # a number picks the value of the extra dimension, as a string does
    ds = open_source("eraint_uvz.nc")
    truth = ds.u.sel(month=7).isel(longitude=_nearest(ds.longitude, 10), latitude=_nearest(ds.latitude, 10)).values
    for month in (7, "7"):
        out = data(call(mcp_server, "vertical_profile", {"collection": "eraint", "lon": 10, "lat": 10,
                                                         "variables": ["u"], "extra": {"month": month}}))
        np.testing.assert_allclose(out["profiles"][0]["values"], truth, rtol=1e-9)


def test_subset_link_z_without_vertical_axis(mcp_server):
    r = call(mcp_server, "subset_link", {"collection": "coads", "z": 5})
    assert "z: collection 'coads' has no vertical axis" in refused(r)
    assert r.structured_content["parameter"] == "z"


def test_render_map_says_which_step_and_level_it_drew(mcp_server):
    ds = open_source("coads_sst.nc")
    out = call(mcp_server, "render_map", {"collection": "coads", "variable": "SST", "width": 64})
    info = data(out)
    assert info["datetime"].startswith(str(ds.TIME.values[-1])[:16])  # the latest step by default
    assert "z" not in info
    png = base64.b64decode(next(b for b in out.content if b.type == "image").data)
    assert Image.open(io.BytesIO(png)).size == (64, 32)
    info = data(call(mcp_server, "render_map", {"collection": "coads", "variable": "SST", "width": 64,
                                                "datetime": "2000-03-17T02:58:12Z"}))
    assert info["datetime"] == "2000-03-17T02:58:12Z"
    basin = open_source("basin_mask.nc")
    info = data(call(mcp_server, "render_map", {"collection": "basin-mask", "width": 64}))
    assert info["z"] == float(basin.Z.values[0]) and "datetime" not in info  # the first level by default
    info = data(call(mcp_server, "render_map", {"collection": "basin-mask", "width": 64,
                                                "z": float(basin.Z.values[3])}))
    assert info["z"] == float(basin.Z.values[3])


def test_a_long_polygon_is_summarised_not_echoed(mcp_server):
    """A polygon of thousands of vertices used to come back whole, twice (area and edr_url): ~150 kB in a
    'compact' answer, and a URL the server refuses (414). Now: its type, vertex count and bounds, and a note."""
    n = 4000
    ring = [(-30 + 10 * math.cos(2 * math.pi * i / n), 40 + 10 * math.sin(2 * math.pi * i / n)) for i in range(n)]
    wkt = "POLYGON((" + ",".join(f"{x:.4f} {y:.4f}" for x, y in ring + ring[:1]) + "))"
    r = call(mcp_server, "area_statistics", {"collection": "coads", "polygon": wkt, "variables": ["SST"]})
    out = data(r)
    assert len(r.content[0].text) < 5_000
    assert out["area"] == "Polygon of 4,001 vertices within [west, south, east, north] [-40.0, 30.0, -20.0, 50.0]"
    assert "edr_url" not in out and "limits.max_url_bytes = 65,536" in out["note"]
    ds = open_source("coads_sst.nc")
    lon, lat = np.meshgrid(ds.COADSX.values, ds.COADSY.values)
    inside = shapely.intersects_xy(shapely.from_wkt(wkt), lon, lat)
    assert out["cells"] == int(inside.sum())
    sst = ds.SST.values[:, inside]
    np.testing.assert_allclose(out["statistics"][0]["mean"], np.nanmean(sst, axis=1), rtol=1e-5)


def test_tool_descriptions_are_one_clean_line(mcp_server):
    """Docstrings reached the agent with their source indentation ('...and\\n        processes...')."""
    async def go():
        async with http_client(mcp_server) as c:
            return (await c.list_tools()).tools
    tools = anyio.run(go)
    multi = [t.name for t in tools if "\n" in t.description or "  " in t.description]
    assert not multi
    by_name = {t.name: t.description for t in tools}
    assert by_name["describe_collection"].startswith("Axes (units, ranges, calendar), variables (units, CF standard "
                                                     "names), CRS, the query tools and processes that apply")


def test_an_infinite_number_is_shown_as_given(mcp_server):
    """A JSON number too large for a float (1e400) is infinite: the error said '(got null)'."""
    body = ('{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "point_series", '
            '"arguments": {"collection": "coads", "lon": 1e400, "lat": 0}}}')
    r = requests.post(f"{mcp_server}/mcp", data=body, timeout=60, headers={
        "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18"})
    assert r.status_code == 200, r.text
    result = r.json()["result"]
    assert result["isError"] is True
    assert "lon (longitude, degrees east (WGS 84)): should be less than or equal to 360 (got inf)" in \
        result["content"][0]["text"]
