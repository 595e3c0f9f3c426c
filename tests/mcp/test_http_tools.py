"""Every tool over Streamable HTTP at /mcp of a live `cubeserver serve`, values checked with xarray on the
source files (independent of the server's code), the size guard (mcp.max_values, limits.max_cells) and
the OGC error wording."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
import requests
import shapely
import xarray as xr
from jsonschema import Draft202012Validator
from PIL import Image

from tests.conftest import DATASETS, open_source
from tests.mcp.conftest import BOB, MAX_CELLS, MAX_VALUES, data, http_client, run

TOOLS = {"list_collections", "describe_collection", "point_series", "area_statistics", "vertical_profile",
         "subset_link", "render_map", "features_query", "list_processes", "describe_process", "execute_process",
         "job_status", "job_results"}


def call(base, tool, args, key=None):
    async def go():
        async with http_client(base, key) as c:
            return await c.call_tool(tool, args)
    return run(go)


def test_tools_listed_with_valid_schemas(mcp_server):
    """Every tool is listed; every input (and output) schema is valid JSON Schema (Draft 2020-12 metaschema)."""
    async def go():
        async with http_client(mcp_server) as c:
            return (await c.list_tools()).tools
    tools = run(go)
    assert {t.name for t in tools} == TOOLS
    for t in tools:
        Draft202012Validator.check_schema(t.input_schema)
        assert t.input_schema["type"] == "object"
        assert t.description
        if t.output_schema is not None:
            Draft202012Validator.check_schema(t.output_schema)
    by_name = {t.name: t for t in tools}
    assert set(by_name["point_series"].input_schema["required"]) == {"collection", "lon", "lat"}
    assert by_name["point_series"].output_schema is not None


def _nearest(values, v):
    return int(np.argmin(np.abs(np.asarray(values, dtype="float64") - v)))


def _days(times):
    t = np.asarray(times)
    return (t - t[0]) / np.timedelta64(1, "D")


def test_point_series_matches_xarray(mcp_server):
    out = data(call(mcp_server, "point_series", {"collection": "coads", "lon": -29.4, "lat": 41.3,
                                                 "variables": ["SST", "AIRT"]}))
    ds = open_source("coads_sst.nc")
    ix, iy = _nearest(ds.COADSX, -29.4), _nearest(ds.COADSY, 41.3)
    assert out["cell"] == [float(ds.COADSX[ix]), float(ds.COADSY[iy])]
    assert len(out["times"]) == ds.sizes["TIME"] and out.get("downsampled") is None
    assert out["times"][0].startswith(str(ds.TIME.values[0])[:13])
    for s in out["series"]:
        truth = ds[s["variable"]].isel(COADSX=ix, COADSY=iy).values.astype("float64")
        assert s["units"] == ds[s["variable"]].attrs["units"]
        np.testing.assert_allclose(np.array(s["values"], dtype="float64"), truth, rtol=1e-6)
        summ = s["summary"]
        assert summ["count"] == summ["valid"] == truth.size
        assert math.isclose(summ["mean"], truth.mean(), rel_tol=1e-6)
        assert math.isclose(summ["min"], truth.min(), rel_tol=1e-6) and math.isclose(summ["max"], truth.max(), rel_tol=1e-6)
        slope = np.polyfit(_days(ds.TIME.values), truth, 1)[0] * 365.2425
        assert math.isclose(summ["trend_per_year"], slope, rel_tol=1e-4)
    # the EDR URL answers the same values (CoverageJSON)
    cov = requests.get(out["edr_url"], timeout=60).json()
    np.testing.assert_allclose(cov["ranges"]["SST"]["values"], out["series"][0]["values"], rtol=1e-6)


def test_point_series_long_series_downsampled_within_max_values(mcp_server):
    """780 monthly steps > mcp.max_values: block means of consecutive steps, a summary of all steps."""
    out = data(call(mcp_server, "point_series", {"collection": "cmip6-ta", "lon": 1.0, "lat": 88.5, "z": 92500}))
    ds = xr.open_mfdataset(str(DATASETS / "cmip6_awi_ta" / "*.nc"))
    ix, iy = _nearest(ds.lon, 1.0), _nearest(ds.lat, 88.5)
    truth = ds.ta.sel(plev=92500).isel(lon=ix, lat=iy).values.astype("float64")
    assert truth.size == 780
    (s,) = out["series"]
    assert out["values_returned"] == len(s["values"]) <= MAX_VALUES
    k = out["downsampled"]["block"]
    assert k == math.ceil(780 / MAX_VALUES) and out["downsampled"]["original_count"] == 780
    expected = [truth[i:i + k].mean() for i in range(0, 780, k)]
    np.testing.assert_allclose(s["values"], expected, rtol=1e-6)
    assert len(out["times"]) == len(s["values"])
    assert math.isclose(s["summary"]["mean"], truth.mean(), rel_tol=1e-6)
    assert s["summary"]["count"] == 780
    assert out["z"] == 92500
    # the full answer is one URL away
    cov = requests.get(out["edr_url"], timeout=60).json()
    assert len(cov["ranges"]["ta"]["values"]) == 780


def test_point_series_asks_for_a_level(mcp_server):
    r = call(mcp_server, "point_series", {"collection": "cmip6-ta", "lon": 1.0, "lat": 88.5})
    assert r.is_error
    assert "z:" in r.content[0].text and "92500" in r.content[0].text
    assert r.structured_content["parameter"] == "z"


def test_vertical_profile_matches_xarray(mcp_server):
    out = data(call(mcp_server, "vertical_profile", {"collection": "basin-mask", "lon": -30.3, "lat": 30.3}))
    ds = open_source("basin_mask.nc")
    ix, iy = _nearest(ds.X, -30.3 % 360), _nearest(ds.Y, 30.3)
    truth = ds.basin.isel(X=ix, Y=iy).values.astype("float64")
    np.testing.assert_allclose(out["levels"], ds.Z.values)
    got = np.array([np.nan if v is None else v for v in out["profiles"][0]["values"]])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(truth))
    np.testing.assert_allclose(got[~np.isnan(got)], truth[~np.isnan(truth)])
    assert out["z_positive"] == "down" and out["z_units"] == "m"
    # a time axis: the latest step unless told
    prof = data(call(mcp_server, "vertical_profile", {"collection": "cmip6-ta", "lon": 1.0, "lat": 88.5}))
    cm = xr.open_mfdataset(str(DATASETS / "cmip6_awi_ta" / "*.nc"))
    t = cm.ta.isel(time=-1, lon=_nearest(cm.lon, 1.0), lat=_nearest(cm.lat, 88.5)).values
    np.testing.assert_allclose(prof["profiles"][0]["values"], t, rtol=1e-6)
    assert prof["time"].startswith(str(cm.time.values[-1])[:10])


def test_area_statistics_bbox_matches_xarray(mcp_server):
    out = data(call(mcp_server, "area_statistics", {"collection": "coads", "bbox": [-40, 30, -20, 50],
                                                    "variables": ["SST"]}))
    ds = open_source("coads_sst.nc")
    box = ds.SST.where((ds.COADSX >= -40) & (ds.COADSX <= -20) & (ds.COADSY >= 30) & (ds.COADSY <= 50), drop=True)
    assert out["cells"] == box.sizes["COADSX"] * box.sizes["COADSY"]
    (st,) = out["statistics"]
    np.testing.assert_allclose(st["mean"], box.mean(["COADSX", "COADSY"]).values, rtol=1e-5)
    np.testing.assert_allclose(st["min"], box.min(["COADSX", "COADSY"]).values, rtol=1e-6)
    np.testing.assert_allclose(st["max"], box.max(["COADSX", "COADSY"]).values, rtol=1e-6)
    assert st["count"] == box.count(["COADSX", "COADSY"]).values.tolist()
    w = np.cos(np.deg2rad(box.COADSY))
    np.testing.assert_allclose(st["weighted_mean"], box.weighted(w).mean(["COADSX", "COADSY"]).values, rtol=1e-5)
    assert len(out["times"]) == 12


def test_area_statistics_polygon_matches_shapely_cells(mcp_server):
    """Cells whose centre is inside a triangle or on its edge (EDR area; shapely on the source's coordinates)."""
    wkt = "POLYGON((-60 10,-10 10,-35 55,-60 10))"
    out = data(call(mcp_server, "area_statistics", {"collection": "coads", "polygon": wkt, "variables": ["AIRT"],
                                                    "datetime": "2000-06-01/2000-08-31"}))
    ds = open_source("coads_sst.nc")
    lon, lat = np.meshgrid(ds.COADSX.values, ds.COADSY.values)
    inside = shapely.intersects_xy(shapely.from_wkt(wkt), lon, lat)
    sub = ds.AIRT.sel(TIME=slice("2000-06-01", "2000-08-31")).values
    assert len(out["times"]) == sub.shape[0]
    (st,) = out["statistics"]
    for i in range(sub.shape[0]):
        vals = sub[i][inside]
        vals = vals[np.isfinite(vals)]
        assert st["count"][i] == vals.size
        assert math.isclose(st["mean"][i], vals.mean(), rel_tol=1e-5)


def test_area_statistics_downsampled_exactly(mcp_server):
    out = data(call(mcp_server, "area_statistics", {"collection": "cmip6-ta", "bbox": [-1, 87, 3, 90], "z": 92500}))
    assert out["values_returned"] <= MAX_VALUES
    k = out["downsampled"]["block"]
    ds = xr.open_mfdataset(str(DATASETS / "cmip6_awi_ta" / "*.nc"))
    ta = ds.ta.sel(plev=92500).values.astype("float64")  # every cell lies in the bbox
    (st,) = out["statistics"]
    assert len(st["mean"]) == len(out["times"]) == math.ceil(780 / k)
    for row in (0, 7, len(st["mean"]) - 1):
        block = ta[row * k:(row + 1) * k]
        assert st["count"][row] == np.isfinite(block).sum()
        assert math.isclose(st["mean"][row], np.nanmean(block), rel_tol=1e-5)
        assert math.isclose(st["max"][row], np.nanmax(block), rel_tol=1e-6)


def test_size_guard_same_413_as_edr(mcp_server):
    """Over limits.max_cells: the tool error carries the EDR API's own 413 body."""
    r = call(mcp_server, "area_statistics", {"collection": "coads", "bbox": [-180, -90, 180, 90]})
    assert r.is_error
    http = requests.get(f"{mcp_server}/collections/coads/cube", params={"bbox": "-180.0,-90.0,180.0,90.0"}, timeout=60)
    assert http.status_code == 413
    assert r.structured_content["detail"] == http.json()["detail"]
    assert r.content[0].text.startswith("Payload Too Large (413): ")
    assert f"{MAX_CELLS:,}" in r.content[0].text


def test_errors_have_the_http_wording(mcp_server):
    r = call(mcp_server, "point_series", {"collection": "coads", "lon": 10, "lat": 10, "variables": ["NOPE"]})
    http = requests.get(f"{mcp_server}/collections/coads/position",
                        params={"coords": "POINT(10 10)", "parameter-name": "NOPE"}, timeout=60)
    assert r.is_error and http.status_code == 400
    body = http.json()
    assert r.structured_content["detail"] == body["detail"] and r.structured_content["parameter"] == body["parameter"]
    assert body["detail"] in r.content[0].text
    r = call(mcp_server, "describe_collection", {"collection": "no-such"})
    assert r.is_error and r.content[0].text.startswith("Not Found (404): no collection 'no-such'")
    # arguments outside the input schema are refused by the SDK before any work
    r = call(mcp_server, "point_series", {"collection": "coads", "lon": 10, "lat": 100})
    assert r.is_error and "lat" in r.content[0].text


def test_subset_link_netcdf_downloads_what_it_says(mcp_server):
    out = data(call(mcp_server, "subset_link", {"collection": "coads", "format": "netcdf", "bbox": [-40, 30, -20, 50],
                                                "datetime": "2000-03-01/2000-06-30", "variables": ["SST"]}))
    assert out["within_limits"] is True and out["media_type"] == "application/x-netcdf"
    body = requests.get(out["url"], timeout=60)
    assert body.status_code == 200
    got = xr.open_dataset(io.BytesIO(body.content))
    assert got.SST.size == out["estimated_values"]
    src = open_source("coads_sst.nc").SST.sel(COADSX=slice(-40, -20), COADSY=slice(30, 50),
                                               TIME=slice("2000-03-01", "2000-06-30"))
    np.testing.assert_allclose(got.SST.values, src.values, rtol=1e-6)
    assert out["estimated_bytes"] == out["estimated_values"] * 4
    big = data(call(mcp_server, "subset_link", {"collection": "coads", "format": "geotiff"}))
    assert big["within_limits"] is False and "zarr" in big["note"].lower()
    z = data(call(mcp_server, "subset_link", {"collection": "coads", "format": "zarr", "bbox": [-40, 30, -20, 50]}))
    assert z["url"].endswith("/collections/coads/zarr") and "open_zarr" in z["python"]
    assert z["estimated_values"] == 10 * 10 * 12 * 4


def test_render_map_png_is_the_maps_answer(mcp_server):
    async def go():
        async with http_client(mcp_server) as c:
            return await c.call_tool("render_map", {"collection": "coads", "variable": "SST", "width": 300,
                                                    "bbox": [-60, 0, 0, 60]})
    r = run(go)
    assert not r.is_error
    image = next(b for b in r.content if b.type == "image")
    assert image.mime_type == "image/png"
    import base64

    png = base64.b64decode(image.data)
    info = r.structured_content
    assert Image.open(io.BytesIO(png)).size == (info["width"], info["height"]) == (300, 300)
    http = requests.get(info["map_url"], timeout=60)
    assert http.status_code == 200 and http.content == png
    r = call(mcp_server, "render_map", {"collection": "coads", "variable": "NOPE"})
    assert r.is_error and r.structured_content["parameter"] == "properties"


def test_features_query_matches_the_file(mcp_server):
    raw = json.loads((DATASETS / "ne_110m_populated_places_simple.geojson").read_text())["features"]
    out = data(call(mcp_server, "features_query", {"collection": "places", "filters": {"adm0name": "Brazil"},
                                                   "properties": ["name", "pop_max"]}))
    truth = {f["properties"]["name"] for f in raw if f["properties"]["adm0name"] == "Brazil"}
    assert out["number_matched"] == len(truth) and {f["properties"]["name"] for f in out["features"]} == truth
    assert all(set(f["properties"]) == {"name", "pop_max"} for f in out["features"])
    box = shapely.box(-10, 35, 30, 60)
    inside = [f for f in raw if box.intersects(shapely.geometry.shape(f["geometry"]))]
    out = data(call(mcp_server, "features_query", {"collection": "places", "bbox": [-10, 35, 30, 60], "limit": 50}))
    assert out["number_matched"] == len(inside) > 40
    # every property of 50 places is more than mcp.max_values numbers: the answer is cut, with the next offset
    cost = sum(len(f["properties"]) + len(f.get("coordinates") or f.get("bbox") or []) for f in out["features"])
    assert cost <= MAX_VALUES and out["truncated"] and out["next_offset"] == out["number_returned"] < 50
    slim = data(call(mcp_server, "features_query", {"collection": "places", "bbox": [-10, 35, 30, 60], "limit": 50,
                                                    "properties": ["name"]}))
    assert slim["number_returned"] == min(50, len(inside))
    assert [f["properties"]["name"] for f in slim["features"]] == [f["properties"]["name"] for f in inside][:50]
    pt = out["features"][0]
    assert pt["geometry_type"] == "Point" and len(pt["coordinates"]) == 2
    r = call(mcp_server, "features_query", {"collection": "places", "limit": 51})
    assert r.is_error and r.structured_content["parameter"] == "limit"
    r = call(mcp_server, "features_query", {"collection": "places", "filters": {"nope": 1}})
    assert r.is_error and "queryables" in r.content[0].text


def test_list_and_describe_collections(mcp_server):
    out = data(call(mcp_server, "list_collections", {"text": "cmip6"}))
    assert [c["id"] for c in out["collections"]] == ["cmip6-ta"]
    d = data(call(mcp_server, "describe_collection", {"collection": "cmip6-ta"}))
    ds = xr.open_mfdataset(str(DATASETS / "cmip6_awi_ta" / "*.nc"))
    axes = {a["role"]: a for a in d["axes"]}
    assert axes["t"]["count"] == ds.sizes["time"] and axes["t"]["calendar"] in ("standard", "proleptic_gregorian")
    assert axes["z"]["values"] == ds.plev.values.tolist() and axes["z"]["units"] == ds.plev.attrs["units"]
    (v,) = d["variables"]
    assert v["standard_name"] == ds.ta.attrs["standard_name"] and v["units"] == ds.ta.attrs["units"]
    assert "temporal-aggregate" in d["processes"] and "point_series" in d["query_types"]
    f = data(call(mcp_server, "describe_collection", {"collection": "places"}))
    assert f["kind"] == "features" and f["features"] == 243 and "zonal-statistics" not in f["processes"]


def test_resources_and_prompts(mcp_server):
    async def go():
        async with http_client(mcp_server) as c:
            resources = (await c.list_resources()).resources
            templates = (await c.list_resource_templates()).resource_templates
            doc = await c.read_resource("cubeserver://collections/coads")
            prompts = (await c.list_prompts()).prompts
            prompt = await c.get_prompt("compare_places", {"collection": "coads", "variable": "SST",
                                                           "place_a": "Lisbon", "place_b": "Dakar"})
            return resources, templates, doc, prompts, prompt
    resources, templates, doc, prompts, prompt = run(go)
    assert "cubeserver://collections" in {str(r.uri) for r in resources}
    assert any("{collection_id}" in t.uri_template for t in templates)
    assert json.loads(doc.contents[0].text)["id"] == "coads"
    assert {"compare_places", "regional_summary"} <= {p.name for p in prompts}
    assert "point_series" in prompt.messages[0].content.text


def all_process_ids(base: str) -> list[str]:
    """Every process id of GET /processes, following its `next` links page by page (as a client does)."""
    ids, url, params, pages = [], f"{base}/processes", {"limit": 100}, 0
    while url:
        doc = requests.get(url, params=params, timeout=60).json()
        ids += [p["id"] for p in doc["processes"]]
        url = next((link["href"] for link in doc["links"] if link["rel"] == "next"), None)
        params, pages = None, pages + 1
        assert pages < 100, "the next links do not end"
    return ids


def all_listed_ids(base: str, limit: int) -> list[str]:
    """Every process id of the list_processes tool, following its next_offset."""
    ids, offset, calls = [], 0, 0
    while offset is not None:
        page = data(call(base, "list_processes", {"limit": limit, "offset": offset}))
        assert len(page["processes"]) <= limit
        ids += [p["id"] for p in page["processes"]]
        offset, calls = page.get("next_offset"), calls + 1
        assert calls < 100, "next_offset does not end"
    assert page["number_matched"] == len(ids)
    return ids


def test_process_tools_match_the_processes_api(mcp_server):
    http = all_process_ids(mcp_server)
    assert len(set(http)) == len(http)  # pages neither overlap nor repeat
    assert all_listed_ids(mcp_server, 500) == http
    if len(http) > 150:  # with the xclim catalogue: one default answer holds one page, not ~350 descriptions
        first = data(call(mcp_server, "list_processes", {}))
        assert len(first["processes"]) == 50 and first["next_offset"] == 50 and first["number_matched"] == len(http)
        assert all_listed_ids(mcp_server, 120) == http
    d = data(call(mcp_server, "describe_process", {"process_id": "zonal-statistics"}))
    assert d["inputs"] == requests.get(f"{mcp_server}/processes/zonal-statistics", timeout=60).json()["inputs"]
    r = call(mcp_server, "describe_process", {"process_id": "nope"})
    assert r.is_error and r.content[0].text.startswith("Not Found (404): no process 'nope'")


def test_list_processes_text_filter(mcp_server):
    out = data(call(mcp_server, "list_processes", {"text": "ZONAL statistics"}))
    assert [p["id"] for p in out["processes"]] == ["zonal-statistics"] and out["number_matched"] == 1
    assert "next_offset" not in out
    out = data(call(mcp_server, "list_processes", {"text": "no such words anywhere"}))
    assert out == {"processes": [], "number_matched": 0}


def test_describe_collection_lists_the_indicators_it_can_feed(mcp_server):
    """With xclim: only indicators whose every required variable the collection has (COADS has sea-surface and air
    temperature, no precipitation), not the whole catalogue."""
    pytest.importorskip("xclim")
    d = data(call(mcp_server, "describe_collection", {"collection": "coads"}))
    assert "temporal-aggregate" in d["processes"]
    assert "xclim.atmos.tg_mean" in d["processes"]  # tas: AIRT by the alias list
    assert "xclim.atmos.prcptot" not in d["processes"] and "xclim.atmos.frost_days" not in d["processes"]
    catalogue = all_process_ids(mcp_server)
    assert len(d["processes"]) < len(catalogue) / 2


def _wait(base, job_id, key):
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        st = data(call(base, "job_status", {"job_id": job_id}, key))
        if st["status"] in ("successful", "failed", "dismissed"):
            return st
        time.sleep(0.5)
    raise AssertionError("job did not finish")


def test_execute_async_then_results(mcp_server):
    out = data(call(mcp_server, "execute_process", {"process_id": "echo", "inputs": {"message": "hi agent"}}, BOB))
    assert out["status"] in ("accepted", "running", "successful")
    st = _wait(mcp_server, out["job_id"], BOB)
    assert st["status"] == "successful"
    res = data(call(mcp_server, "job_results", {"job_id": out["job_id"]}, BOB))
    (o,) = res["outputs"]
    assert o["value"] == "hi agent" or o["value"] == {"message": "hi agent"} or "hi agent" in json.dumps(o["value"])
    # the same job on the HTTP API, for its owner
    http = requests.get(f"{mcp_server}/jobs/{out['job_id']}", headers={"X-API-Key": BOB}, timeout=60)
    assert http.status_code == 200 and http.json()["status"] == "successful"
    # a gridded result: a collection the owner can query with the data tools
    job = data(call(mcp_server, "execute_process", {
        "process_id": "temporal-aggregate",
        "inputs": {"collection": "coads", "variables": ["SST"], "bbox": [-40, 30, -20, 50], "reducer": "mean"}}, BOB))
    assert _wait(mcp_server, job["job_id"], BOB)["status"] == "successful"
    res = data(call(mcp_server, "job_results", {"job_id": job["job_id"]}, BOB))
    (o,) = res["outputs"]
    assert o["kind"] == "coverage" and o["collection"] == f"job-{job['job_id']}"
    stats = data(call(mcp_server, "area_statistics", {"collection": o["collection"], "bbox": [-40, 30, -20, 50]}, BOB))
    src = open_source("coads_sst.nc").SST.sel(COADSX=slice(-40, -20), COADSY=slice(30, 50)).mean("TIME")
    assert math.isclose(stats["statistics"][0]["mean"][0], float(src.mean()), rel_tol=1e-5)


def test_handshake_era_clients_and_methods(mcp_server):
    """A client of the 2025 protocol (initialize handshake, as most desktop agents speak it) works too; /mcp
    answers POST only (stateless JSON: no GET event stream, no session to DELETE): 405 with Allow."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    async def go():
        async with create_mcp_http_client() as hc:
            async with Client(streamable_http_client(f"{mcp_server}/mcp", http_client=hc), mode="legacy") as c:
                return c.protocol_version, await c.call_tool("point_series", {"collection": "coads", "lon": -29.4,
                                                                              "lat": 41.3, "variables": ["SST"]})
    version, r = run(go)
    assert version.startswith("2025")
    ds = open_source("coads_sst.nc")
    truth = ds.SST.isel(COADSX=_nearest(ds.COADSX, -29.4), COADSY=_nearest(ds.COADSY, 41.3)).values
    np.testing.assert_allclose(data(r)["series"][0]["values"], truth, rtol=1e-6)
    for method in ("GET", "DELETE"):
        resp = requests.request(method, f"{mcp_server}/mcp", timeout=30)
        assert resp.status_code == 405 and resp.headers["Allow"] == "POST"
        assert resp.json()["code"] == "MethodNotAllowed"
