"""Domain set, range type, schema, collection links and conformance: what generic clients read first."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import GRIDS

REL = "http://www.opengis.net/def/rel/ogc/1.0/"
CONF = "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/"


@pytest.mark.parametrize("cid", list(GRIDS))
def test_domainset_describes_the_grid(client, sources, cid):
    g, src = GRIDS[cid], sources(cid)
    r = client.get(f"/collections/{cid}/coverage/domainset")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    grid = r.json()["generalGrid"]
    expected = [g.x, g.y] + [d for d in (g.z, g.t) if d] + list(g.others)
    assert grid["axisLabels"] == expected
    x, y = grid["axis"][0], grid["axis"][1]
    for ax, dim in ((x, g.x), (y, g.y)):
        values = src[dim].values.astype("float64")
        assert ax["type"] == "RegularAxisType" and ax["axisLabel"] == dim
        # GDAL derives the raster size as (upper - lower) / resolution: it must be the cell count
        assert round((ax["upperBound"] - ax["lowerBound"]) / ax["resolution"]) == values.size
        assert ax["lowerBound"] == pytest.approx(values.min() - ax["resolution"] / 2)
    limits = grid["gridLimits"]["axis"]
    assert [a["upperBound"] + 1 for a in limits] == [src.sizes[d] for d in expected]


def test_domainset_time_and_crs(client):
    grid = client.get("/collections/coads/coverage/domainset").json()["generalGrid"]
    assert grid["srsName"].startswith("http://www.opengis.net/def/crs-compound?1=http://www.opengis.net/def/crs/OGC/1.3/CRS84&2=")
    assert grid["axis"][2]["coordinate"][0] == "2000-01-16T06:00:00Z"
    grid = client.get("/collections/landsat-rgb/coverage/domainset").json()["generalGrid"]
    assert grid["srsName"] == "http://www.opengis.net/def/crs/EPSG/0/32618"
    assert grid["axis"][0]["uomLabel"] == "metre" or grid["axis"][0]["uomLabel"] == "m"


@pytest.mark.parametrize("cid", list(GRIDS))
def test_every_advertised_label_is_accepted(client, cid):
    labels = client.get(f"/collections/{cid}/coverage/domainset").json()["generalGrid"]["axisLabels"]
    for label in labels:
        r = client.get(f"/collections/{cid}/coverage", params={"subset": f"{label}(*)", "f": "covjson",
                                                               "scale-size": f"{labels[0]}(4),{labels[1]}(4)"})
        assert r.status_code == 200, (label, r.text)
    r = client.get(f"/collections/{cid}/coverage", params={"scale-axes": f"{labels[-1]}(1)", "scale-factor": 16, "f": "covjson"})
    assert r.status_code == 200, r.text


def test_rangetype_fields(client):
    fields = client.get("/collections/coads/coverage/rangetype").json()["field"]
    assert [f["name"] for f in fields] == ["SST", "AIRT", "UWND", "VWND"]
    sst = fields[0]
    assert sst["definition"] == "ogcType:float32" and sst["uom"]["code"] == "Deg C"
    assert sst["nodata"] == "NaN" and sst["nilValues"][0]["value"] == pytest.approx(-1e34)
    rgb = client.get("/collections/landsat-rgb/coverage/rangetype").json()["field"]
    assert {f["definition"] for f in rgb} == {"ogcType:unsignedByte"} and rgb[0]["nodata"] == 0


def test_schema(client):
    r = client.get("/collections/cmip5-pr/schema")
    assert r.status_code == 200 and r.headers["content-type"] == "application/schema+json"
    doc = r.json()
    pr = doc["properties"]["pr"]
    assert pr["type"] == "number" and pr["x-ogc-unit"] == "mm/day" and pr["format"] == "float32"
    assert doc["$id"].endswith("/collections/cmip5-pr/schema")


def test_collection_links_and_quicklook(client):
    doc = client.get("/collections/coads").json()
    cov = {l["type"]: l["href"] for l in doc["links"] if l["rel"] == REL + "coverage"}
    assert set(cov) == {"image/tiff; application=geotiff", "application/x-netcdf", "application/prs.coverage+json", "image/png"}
    rels = {l["rel"]: l for l in doc["links"]}
    assert rels[REL + "coverage-domainset"]["type"] == "application/json"
    assert rels[REL + "coverage-rangetype"]["type"] == "application/json"
    assert rels[REL + "schema"]["type"] == "application/schema+json"
    for href in [*cov.values(), rels[REL + "coverage-domainset"]["href"], doc["quicklook"]]:
        path = href.split("://", 1)[1].split("/", 1)[1]
        assert client.get("/" + path, params={"scale-factor": 4} if "coverage?" in path else None).status_code == 200
    assert "extent" in doc
    html = client.get("/collections/coads", params={"f": "html"}).text
    assert doc["quicklook"].replace("&", "&amp;") in html or doc["quicklook"] in html


def test_features_collections_are_not_coverages(client):
    doc = client.get("/collections/places").json()
    assert not [l for l in doc["links"] if "coverage" in l["rel"]] and "quicklook" not in doc
    r = client.get("/collections/places/coverage")
    assert r.status_code == 404


def test_conformance(client):
    conf = client.get("/conformance").json()["conformsTo"]
    for c in ("core", "subsetting", "bbox", "datetime", "fieldselection", "scaling", "crs",
              "geotiff", "netcdf", "coveragejson", "png"):
        assert CONF + c in conf


def test_domainset_bounds_match_geotiff(client):
    """The full coverage as GeoTIFF sits exactly on the grid the domainset advertises."""
    from .conftest import geotiff

    grid = client.get("/collections/shade/coverage/domainset").json()["generalGrid"]["axis"]
    t = geotiff(client.get("/collections/shade/coverage", params={"f": "tif"}).content)["transform"]
    assert t.c == pytest.approx(grid[0]["lowerBound"]) and t.f == pytest.approx(grid[1]["upperBound"])
    assert t.a == pytest.approx(grid[0]["resolution"]) and -t.e == pytest.approx(grid[1]["resolution"])
    assert np.isfinite(t.a)
