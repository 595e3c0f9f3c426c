"""Ground truth read straight from the bundled GeoJSON files, independent of the server code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import shape

from tests.conftest import DATASETS

PLACES = DATASETS / "ne_110m_populated_places_simple.geojson"
LAKES = DATASETS / "ne_110m_lakes.geojson"
OGC_EXC = "http://www.opengis.net/def/exceptions/ogcapi-common-1/1.0/"


def load(path: Path) -> list[dict]:
    """Features with shapely geometries; ids as the server documents them (GeoJSON id, else position)."""
    feats = json.loads(path.read_text())["features"]
    out = []
    for i, f in enumerate(feats):
        fid = f.get("id", i)
        out.append({"id": str(fid), "geom": shape(f["geometry"]), "properties": f["properties"]})
    return out


@pytest.fixture(scope="session")
def places_truth():
    return load(PLACES)


@pytest.fixture(scope="session")
def lakes_truth():
    return load(LAKES)


def walk(client, url: str, params: dict | None = None) -> list[dict]:
    """Every page of an items query, following next links; returns all pages' JSON."""
    pages = []
    r = client.get(url, params=params)
    while True:
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(page)
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            return pages
        assert len(pages) < 1000, "next links never end"
        r = client.get(nxt[0])


def ids_of(pages: list[dict]) -> list[str]:
    return [f["id"] for p in pages for f in p["features"]]


def assert_error(r, status: int, parameter: str | None):
    assert r.status_code == status, r.text[:500]
    body = r.json()
    assert body["status"] == status
    assert body["type"].startswith(OGC_EXC)
    assert body["detail"]
    if parameter is not None:
        assert body.get("parameter") == parameter, body
    return body
