"""Real clients against the real CLI server: OWSLib and GDAL's OAPIF driver."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from shapely.geometry import box


def test_owslib_reads_collections_and_items(live_server, places_truth, lakes_truth):
    from owslib.ogcapi.features import Features

    api = Features(live_server)
    assert set(api.feature_collections()) == {"places", "lakes", "countries"}
    assert api.collection("places")["itemType"] == "feature"
    page = api.collection_items("places", limit=7, offset=20)
    assert page["numberMatched"] == len(places_truth)
    assert [f["id"] for f in page["features"]] == [f["id"] for f in places_truth[20:27]]
    hits = api.collection_items("places", bbox=[-10, 35, 30, 60], limit=1000)
    assert [f["id"] for f in hits["features"]] == [
        f["id"] for f in places_truth if f["geom"].intersects(box(-10, 35, 30, 60))]
    france = api.collection_items("places", adm0name="France")
    assert [f["properties"]["name"] for f in france["features"]] == [
        f["properties"]["name"] for f in places_truth if f["properties"]["adm0name"] == "France"]
    assert api.collection_item("lakes", lakes_truth[3]["id"])["properties"] == lakes_truth[3]["properties"]
    assert "pop_max" in api.collection_queryables("places")["properties"]


def ogrinfo(*args: str, stderr: bool = False) -> str:
    if shutil.which("ogrinfo") is None:
        pytest.skip("ogrinfo (GDAL) not installed")
    done = subprocess.run(["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + (done.stderr if stderr else "")


def test_gdal_lists_feature_layers(live_server):
    out = ogrinfo("-so", f"OAPIF:{live_server}")
    assert re.search(r"^\d+: places .*\(Point\)$", out, re.M), out
    assert re.search(r"^\d+: lakes .*\(Polygon\)$", out, re.M), out


def test_gdal_layer_summary(live_server, places_truth):
    out = ogrinfo("-so", f"OAPIF:{live_server}/collections/places", "places")
    assert f"Feature Count: {len(places_truth)}" in out
    assert "Geometry: Point" in out
    assert re.search(r"pop_max: Integer", out)
    assert re.search(r"adm0name: String", out)


def test_gdal_reads_every_feature_through_paging(live_server, lakes_truth):
    out = ogrinfo("-q", f"OAPIF:{live_server}/collections/lakes", "lakes")
    names = re.findall(r"^\s+name \(String\) = (.*)$", out, re.M)
    assert names == [f["properties"]["name"] for f in lakes_truth]


def test_gdal_pushes_attribute_filter_to_server(live_server, places_truth):
    expected = [f["properties"]["name"] for f in places_truth if f["properties"]["adm0name"] == "China"]
    out = ogrinfo("-q", f"OAPIF:{live_server}/collections/places", "places", "-where", "adm0name = 'China'",
                  "--debug", "on", stderr=True)
    assert re.search(r"Fetch\(\S+/collections/places/items\?\S*adm0name=China", out), "filter evaluated client-side"
    assert re.findall(r"^\s+name \(String\) = (.*)$", out, re.M) == expected
