"""One feature: `properties` selects, anything but f/crs/properties is a 400 (as on the items list)."""

from __future__ import annotations

import json

from tests.conftest import DATASETS


def _source_feature(index: int) -> dict:
    return json.loads((DATASETS / "ne_110m_populated_places_simple.geojson").read_text())["features"][index]


def test_item_properties_selects(client):
    r = client.get("/collections/places/items/0", params={"properties": "name,pop_max"})
    assert r.status_code == 200
    src = _source_feature(0)["properties"]
    assert r.json()["properties"] == {"name": src["name"], "pop_max": src["pop_max"]}
    assert client.get("/collections/places/items/0", params={"properties": ""}).json()["properties"] == {}


def test_item_refuses_unknown_parameters(client):
    r = client.get("/collections/places/items/0", params={"foo": "bar"})
    assert r.status_code == 400 and r.json()["parameter"] == "foo" and "f, crs, properties" in r.json()["detail"]
    r = client.get("/collections/places/items/0", params={"properties": "nope"})
    assert r.status_code == 400 and r.json()["parameter"] == "properties"
