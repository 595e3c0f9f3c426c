"""Every client mistake is a 400/404 with an OGC exception body naming the parameter."""

from __future__ import annotations

import pytest

from .conftest import assert_error

ITEMS = "/collections/places/items"


@pytest.mark.parametrize("params,parameter", [
    ({"limit": "0"}, "limit"),
    ({"limit": "-3"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"limit": "2.5"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"offset": "x"}, "offset"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "1,2,3,4,5"}, "bbox"),
    ({"bbox": "a,b,c,d"}, "bbox"),
    ({"bbox": "0,10,10,5"}, "bbox"),                 # min latitude > max latitude
    ({"bbox": "0,-95,10,5"}, "bbox"),                # latitude out of range
    ({"bbox": "0,0,200,5"}, "bbox"),                 # longitude out of range
    ({"bbox": "0,0,nan,5"}, "bbox"),
    ({"bbox": "95,0,96,10", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}, "bbox"),  # latitude 95
    ({"bbox": "0,0,1,1", "bbox-crs": "EPSG:3857"}, "bbox-crs"),
    ({"crs": "EPSG:32631"}, "crs"),
    ({"datetime": "garbage"}, "datetime"),
    ({"properties": "name,nonexistent"}, "properties"),
    ({"nonexistent": "1"}, "nonexistent"),
    ({"geometry": "POINT(0 0)"}, "geometry"),
    ({"pop_max": "lots"}, "pop_max"),
    ({"f": "shapefile"}, "f"),
])
def test_items_bad_parameters(client, params, parameter):
    body = assert_error(client.get(ITEMS, params=params), 400, parameter)
    assert body["type"].endswith("InvalidParameterValue")


def test_datetime_on_a_collection_without_time_matches_all(client):
    """Features /req/core/fc-time-response C: features without a temporal geometry match any datetime (was a 400)."""
    everything = client.get(ITEMS).json()["numberMatched"]
    assert client.get(ITEMS, params={"datetime": "2020-01-01"}).json()["numberMatched"] == everything


def test_unknown_parameter_lists_queryables(client):
    body = assert_error(client.get(ITEMS, params={"contry": "France"}), 400, "contry")
    assert "adm0name" in body["detail"] and "pop_max" in body["detail"]


def test_repeated_parameter(client):
    r = client.get(ITEMS + "?adm0name=France&adm0name=Spain")
    assert_error(r, 400, "adm0name")
    assert_error(client.get(ITEMS + "?bbox=0,0,1,1&bbox=1,1,2,2"), 400, "bbox")


@pytest.mark.parametrize("url,parameter", [
    ("/collections/nope/items", "collectionId"),
    ("/collections/nope/items/1", "collectionId"),
    ("/collections/nope/queryables", "collectionId"),
    ("/collections/places/items/999999", "featureId"),
    ("/collections/places/items/abc", "featureId"),
    ("/collections/lakes/items/25", "featureId"),
])
def test_not_found(client, url, parameter):
    assert_error(client.get(url), 404, parameter)


def test_gridded_collection_is_not_a_features_collection(client):
    gridded = [c["id"] for c in client.get("/collections").json()["collections"] if "itemType" not in c]
    assert gridded
    for suffix in ("items", "items/0", "queryables"):
        body = assert_error(client.get(f"/collections/{gridded[0]}/{suffix}"), 404, "collectionId")
        assert "not a features collection" in body["detail"]


def test_not_acceptable(client):
    r = client.get(ITEMS, headers={"Accept": "image/png"})
    assert_error(r, 406, "Accept")
