"""OGC API - Coverages (current draft, standard/annex_ats.adoc) abstract tests checkable over HTTP:
core, spatial / temporal / general subsetting and the four encodings this server declares.

Values are compared with xarray reading the source files (tests/coverages/conftest.py `sources`),
never with numbers of our own code. Collection metadata is validated against the draft's
common-geodata schemas (extent, collectionDesc).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conformance.official import errors, validate
from tests.coverages.conftest import inside, netcdf, sources  # noqa: F401 - the `sources` fixture

DRAFT = "https://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/"
COVERAGE = "http://www.opengis.net/def/rel/ogc/1.0/coverage"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def cov(client, cid="coads", **params):
    return client.get(f"/collections/{cid}/coverage", params=params)


def t_values(r) -> list[str]:
    return r.json()["domain"]["axes"]["t"]["values"]


@pytest.fixture(scope="module")
def gridded(client):
    return [c for c in client.get("/collections").json()["collections"]
            if any(lk["rel"] == COVERAGE for lk in c["links"])]


# ------------------------------------------------------------------ core

def test_conf_core_conformance_success(client):
    """/conf/core/conformance-success: the draft's URIs of the classes this server meets are declared."""
    conf = client.get("/conformance").json()["conformsTo"]
    for c in ("core", "subsetting-spatial", "subsetting-temporal", "subsetting-general", "geotiff", "netcdf",
              "coveragejson", "png"):
        assert DRAFT + c in conf


def test_conf_core_collection_description(client, gridded):
    """/conf/core/collection-description: a coverage link in /collections and /collections/{id}; storageCrs other
    than CRS84 comes with extent.spatial.storageCrsBbox; the extent follows the draft's extent.yaml apart from trs."""
    assert gridded
    for c in gridded:
        doc = client.get(f"/collections/{c['id']}").json()
        assert any(lk["rel"] == COVERAGE for lk in doc["links"])
        if doc.get("storageCrs") and doc["storageCrs"] != CRS84:
            assert doc["extent"]["spatial"]["storageCrsBbox"][0] == doc["extent"]["spatial"]["native"]["bbox"]
        found = [e for e in errors(doc["extent"], "coverages-draft/common-geodata/extent.yaml") if "trs" not in e]
        assert not found, (c["id"], found)


def test_conf_core_collection_description_grid_matches_source(client, sources):
    """/conf/core/collection-description (grid): cellsCount and resolution equal the source file's axes."""
    src = sources("coads")
    grid = client.get("/collections/coads").json()["extent"]["spatial"]["grid"]
    for g, dim in zip(grid, ("COADSX", "COADSY")):
        v = src[dim].values
        assert g["cellsCount"] == v.size and g["resolution"] == pytest.approx(float(v[1] - v[0]))
    assert client.get("/collections/coads").json()["extent"]["temporal"]["grid"]["cellsCount"] == src.TIME.size


def test_conf_core_coverage_fields_schema(client, gridded, sources):
    """/conf/core/coverage-fields-schema: one field per variable with title and type, x-ogc-propertySeq in order."""
    for c in gridded:
        doc = client.get(f"/collections/{c['id']}/schema").json()
        props = doc["properties"]
        assert props
        for key, spec in props.items():
            assert spec.get("title") and spec.get("type"), (c["id"], key)
        assert sorted(p["x-ogc-propertySeq"] for p in props.values()) == list(range(1, len(props) + 1))
    assert list(client.get("/collections/coads/schema").json()["properties"]) == list(sources("coads").data_vars)


def test_conf_core_get_coverage(client, sources):
    """/conf/core/get-coverage: 200, the negotiated format (Accept or f), values equal to the source."""
    r = client.get("/collections/coads/coverage", params={"subset": 'COADSX(0:10),COADSY(0:10)', "properties": "SST"},
                   headers={"Accept": "application/x-netcdf"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-netcdf")
    src = sources("coads")
    exp = src.SST.isel(COADSX=inside(src.COADSX.values, 0, 10), COADSY=inside(src.COADSY.values, 0, 10))
    np.testing.assert_allclose(netcdf(r.content).SST.values, exp.values, equal_nan=True)
    for link in client.get("/collections/coads").json()["links"]:
        if link["rel"] == COVERAGE and link["type"] != "image/png":
            r = client.get(link["href"] + "&subset=COADSX(0:4),COADSY(0:4)")
            assert r.headers["content-type"].split(";")[0] == link["type"].split(";")[0]


def test_conf_core_response_headers(client, sources):
    """/conf/core/response-headers: Content-Crs off CRS84, Content-Bbox (cell edges), Content-Datetime."""
    src = sources("coads")
    r = cov(client, subset='COADSX(0:10),COADSY(0:10),TIME("2000-03-01":"2000-05-31")', properties="SST", f="netcdf")
    x = src.COADSX.values[inside(src.COADSX.values, 0, 10)]
    y = src.COADSY.values[inside(src.COADSY.values, 0, 10)]
    box = [float(v) for v in r.headers["content-bbox"].split(",")]
    assert box == pytest.approx([x.min() - 1, y.min() - 1, x.max() + 1, y.max() + 1])  # 2-degree cells
    times = src.TIME.sel(TIME=slice("2000-03-01", "2000-05-31")).values
    start, end = r.headers["content-datetime"].split("/")
    assert start.startswith(str(times[0])[:16]) and end.startswith(str(times[-1])[:16])
    assert "content-crs" not in r.headers
    r = cov(client, "landsat-rgb", subset="x(150000:160000),y(2700000:2710000)", f="netcdf")
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/32618>"


# ------------------------------------------------------------------ spatial subsetting

def test_conf_subsetting_spatial_subset(client, sources):
    """/conf/subsetting-spatial/subset: trimming keeps the dimension, slicing (one value) removes it; Lat/Lon aliases."""
    src = sources("coads")
    trim = netcdf(cov(client, subset="Lon(-10:20),Lat(40:60)", properties="SST", f="netcdf").content)
    exp = src.SST.isel(COADSX=inside(src.COADSX.values, -10, 20), COADSY=inside(src.COADSY.values, 40, 60))
    np.testing.assert_allclose(trim.SST.values, exp.values, equal_nan=True)
    sl = cov(client, subset='Lat(41),TIME("2000-01-16T06:00:00Z")', properties="SST", f="covjson").json()
    assert sl["domain"]["axes"]["y"]["values"] == [float(src.COADSY.sel(COADSY=41, method="nearest"))]


def test_conf_subsetting_spatial_3d_axis(client, gridded):
    """/conf/subsetting-spatial/3d-axis: applies only to three-dimensional spatial bboxes; none is published."""
    for c in gridded:
        assert all(len(b) == 4 for b in c["extent"]["spatial"]["bbox"])


def test_conf_subsetting_spatial_subset_invalid_axis(client):
    """/conf/subsetting-spatial/subset-invalid-axis: an axis the coverage lacks is a 400 naming subset."""
    r = cov(client, subset="Depth(0:10)")
    assert r.status_code == 400 and r.json()["parameter"] == "subset"


def test_conf_subsetting_spatial_out_of_bounds(client):
    """/conf/subsetting-spatial/out-of-bounds: entirely outside the axis is 404 (the draft allows 204 or 404)."""
    for s in ("Lat(10:20)", "lon(0:5)"):
        r = cov(client, "mur-sst", subset=s)
        assert r.status_code == 404 and r.json()["parameter"] == "subset", s
    assert cov(client, "mur-sst", subset="lat(40.5:60)", f="netcdf").status_code == 200  # partly outside: the overlap


def test_conf_subsetting_spatial_wrap_around(client, sources):
    """/conf/subsetting-spatial/wrap-around: across the antimeridian, as a bbox (minx > maxx) on a lon/lat grid."""
    src = sources("coads")
    r = cov(client, bbox="170,-10,-170,10", properties="SST", f="covjson")
    assert r.status_code == 200
    xs = r.json()["domain"]["axes"]["x"]
    n = len(xs["values"]) if "values" in xs else xs["num"]
    lon = src.COADSX.values
    assert n == int(((lon >= 170) & (lon <= 180)).sum() + ((lon >= -180) & (lon <= -170)).sum())


def test_conf_subsetting_spatial_subset_bbox_exclusivity(client):
    """/conf/subsetting-spatial/subset-bbox-exclusivity: subset on a spatial axis together with bbox is a 400."""
    for s in ("Lat(0:10)", "COADSX(0:10)"):
        r = cov(client, subset=s, bbox="0,0,10,10")
        assert r.status_code == 400 and r.json()["parameter"] == "subset", s


def test_conf_subsetting_spatial_wildcard_limits(client, sources):
    """/conf/subsetting-spatial/wildcard-limits: `*` is the axis' minimum or maximum."""
    src = sources("coads")
    doc = cov(client, subset="Lat(*:-80),Lon(170:*)", properties="SST", f="netcdf")
    out = netcdf(doc.content)
    assert out.COADSY.size == int((src.COADSY.values <= -80).sum())
    assert out.COADSX.size == int((src.COADSX.values >= 170).sum())


def test_conf_subsetting_spatial_multiple_subset(client):
    """/conf/subsetting-spatial/multiple-subset: repeated subset parameters equal one comma-separated value."""
    a = cov(client, subset=["Lat(0:10)", "Lon(0:10)"], properties="SST", f="netcdf").content
    b = cov(client, subset="Lat(0:10),Lon(0:10)", properties="SST", f="netcdf").content
    np.testing.assert_array_equal(netcdf(a).SST.values, netcdf(b).SST.values)


def test_conf_subsetting_spatial_subset_scaling_exclusivity(client):
    """/conf/subsetting-spatial/subset-scaling-exclusivity: slicing and scaling one axis is a 4xx."""
    r = cov(client, subset="Lat(41)", **{"scale-axes": "Lat(2)"})
    assert 400 <= r.status_code < 500


def test_conf_subsetting_spatial_subset_crs(client, sources):
    """/conf/subsetting-spatial/subset-crs: subset-crs=CRS84 (URI or CURIE) on a projected coverage selects the
    same cells as the native coordinates of that box."""
    a = cov(client, "landsat-rgb", subset="Lon(-78:-77.5),Lat(24:24.5)", **{"subset-crs": CRS84, "f": "netcdf"})
    b = cov(client, "landsat-rgb", subset="Lon(-78:-77.5),Lat(24:24.5)", **{"subset-crs": "OGC:CRS84", "f": "netcdf"})
    assert a.status_code == b.status_code == 200 and a.headers["content-bbox"] == b.headers["content-bbox"]


def test_conf_subsetting_spatial_bbox_definition(client, sources):
    """/conf/subsetting-spatial/bbox-definition: four numbers in CRS84; cells inside; malformed boxes are 400."""
    src = sources("coads")
    out = netcdf(cov(client, bbox="-10,40,20,60", properties="SST", f="netcdf").content)
    assert out.COADSX.size == inside(src.COADSX.values, -10, 20).size
    for bad in ("1,2,3", "a,b,c,d", "10,60,20,40"):
        r = cov(client, bbox=bad)
        assert r.status_code == 400 and r.json()["parameter"] == "bbox", bad


def test_conf_subsetting_spatial_bbox_crs(client):
    """/conf/subsetting-spatial/bbox-crs: CRS84 by default, the storage CRS accepted, ignored without bbox."""
    a = cov(client, "landsat-rgb", bbox="-78,24,-77.5,24.5", f="netcdf")
    b = cov(client, "landsat-rgb", bbox="-78,24,-77.5,24.5", **{"bbox-crs": CRS84, "f": "netcdf"})
    assert a.headers["content-bbox"] == b.headers["content-bbox"]
    native = cov(client, "landsat-rgb", bbox="150000,2700000,160000,2710000",
                 **{"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/32618", "f": "netcdf"})
    x0, y0, x1, y1 = (float(v) for v in native.headers["content-bbox"].split(","))
    assert 149000 < x0 < x1 < 161000 and 2699000 < y0 < y1 < 2711000
    assert cov(client, "coads", **{"bbox-crs": CRS84, "subset": "COADSX(0:2),COADSY(0:2)"}).status_code == 200


# ------------------------------------------------------------------ temporal subsetting

def test_conf_subsetting_temporal_subset(client, sources):
    """/conf/subsetting-temporal/subset: an end written as a day covers the day; hour 24 is the next day's 00:00."""
    src = sources("coads")
    exp = [str(t)[:19] for t in src.TIME.sel(TIME=slice("2000-03-01", "2000-05-16")).values]
    got = [t[:19] for t in t_values(cov(client, subset='TIME("2000-03-01":"2000-05-16"),COADSX(0:2),COADSY(0:2)',
                                        properties="SST"))]
    assert got == exp
    got24 = t_values(cov(client, subset='time("2000-02-29T24:00:00Z":"2000-05-16T24:00Z"),Lon(0:2),Lat(0:2)', properties="SST"))
    assert [t[:19] for t in got24] == exp


def test_conf_subsetting_temporal_subset_invalid_axis(client):
    """/conf/subsetting-temporal/subset-invalid-axis: a time axis name the coverage lacks is a 400."""
    r = cov(client, "eraint", subset='time("2000-01-01")')
    assert r.status_code == 400 and r.json()["parameter"] == "subset"


def test_conf_subsetting_temporal_out_of_bounds(client):
    """/conf/subsetting-temporal/out-of-bounds: an interval or instant entirely outside the time axis is 404."""
    for s in ('TIME("1990-01-01":"1990-12-31")', 'TIME("2030-01-01")', 'TIME(*:"1999-01-01")'):
        r = cov(client, subset=s)
        assert r.status_code == 404 and r.json()["parameter"] == "subset", s


def test_conf_subsetting_temporal_subset_datetime_exclusivity(client):
    """/conf/subsetting-temporal/subset-datetime-exclusivity: subset on time with datetime is a 400."""
    r = cov(client, subset='TIME("2000-03-01":"2000-05-01")', datetime="2000-03-01/2000-05-01")
    assert r.status_code == 400 and r.json()["parameter"] == "subset"


def test_conf_subsetting_temporal_wildcard_limits(client, sources):
    """/conf/subsetting-temporal/wildcard-limits: `*` ends are the first/last step; a single `*` is the latest step."""
    src = sources("coads")
    last = str(src.TIME.values[-1])[:19]
    assert [t[:19] for t in t_values(cov(client, subset="TIME(*),Lon(0:2),Lat(0:2)", properties="SST"))] == [last]
    got = t_values(cov(client, subset='TIME("2000-11-01":*),Lon(0:2),Lat(0:2)', properties="SST"))
    assert [t[:19] for t in got] == [str(t)[:19] for t in src.TIME.sel(TIME=slice("2000-11-01", None)).values]


def test_conf_subsetting_temporal_multiple_subset(client):
    """/conf/subsetting-temporal/multiple-subset: time in its own subset parameter equals the combined form."""
    a = t_values(cov(client, subset=['TIME("2000-03-01":"2000-06-01")', "Lon(0:2),Lat(0:2)"], properties="SST"))
    b = t_values(cov(client, subset='TIME("2000-03-01":"2000-06-01"),Lon(0:2),Lat(0:2)', properties="SST"))
    assert a == b and len(a) == 3


def test_conf_subsetting_temporal_subset_scaling_exclusivity(client):
    """/conf/subsetting-temporal/subset-scaling-exclusivity: a time slice with time scaling is a 4xx."""
    r = cov(client, subset='TIME("2000-03-17T02:58:12Z")', **{"scale-axes": "TIME(2)"})
    assert r.status_code == 400 and r.json()["parameter"] == "scale-axes"


def test_conf_subsetting_temporal_datetime(client, sources):
    """/conf/subsetting-temporal/datetime: instants and intervals with `..` or empty ends; none on a timeless coverage."""
    src = sources("coads")
    every = [str(t)[:19] for t in src.TIME.values]
    for dt, exp in (("2000-03-01/2000-05-31", every[2:5]), ("../2000-02-20", every[:2]), ("2000-11-01/", every[10:]),
                    ("2000-11-01/..", every[10:])):
        assert [t[:19] for t in t_values(cov(client, datetime=dt, subset="Lon(0:2),Lat(0:2)", properties="SST"))] == exp, dt
    assert cov(client, "eraint", datetime="2000-01-01").status_code == 400


# ------------------------------------------------------------------ general subsetting

def test_conf_subsetting_general_subset(client, sources):
    """/conf/subsetting-general/subset: other axes (pressure level) trim and slice."""
    src = sources("eraint")
    out = netcdf(cov(client, "eraint", subset="level(300:900),longitude(0:3),latitude(0:3)", f="netcdf").content)
    assert list(out.level.values) == [v for v in src.level.values if 300 <= v <= 900]
    sl = netcdf(cov(client, "eraint", subset="level(500),longitude(0:3),latitude(0:3)", f="netcdf").content)
    assert "level" not in sl.dims or sl.sizes["level"] == 1


def test_conf_subsetting_general_subset_invalid_axis(client):
    """/conf/subsetting-general/subset-invalid-axis: an unknown axis is a 400."""
    assert cov(client, "eraint", subset="ensemble(1)").status_code == 400


def test_conf_subsetting_general_out_of_bounds(client):
    """/conf/subsetting-general/out-of-bounds: a level range entirely outside the levels is 404."""
    r = cov(client, "eraint", subset="level(1000:1100)")
    assert r.status_code == 404 and r.json()["parameter"] == "subset"


def test_conf_subsetting_general_wildcard_limits(client, sources):
    """/conf/subsetting-general/wildcard-limits: `*` on a level axis is its minimum or maximum."""
    src = sources("eraint")
    out = netcdf(cov(client, "eraint", subset="level(*:500),longitude(0:3),latitude(0:3)", f="netcdf").content)
    assert list(out.level.values) == [v for v in src.level.values if v <= 500]


def test_conf_subsetting_general_multiple_subset(client):
    """/conf/subsetting-general/multiple-subset: a level subset in its own parameter equals the combined form."""
    a = cov(client, "eraint", subset=["level(300:900)", "longitude(0:3),latitude(0:3)"], f="netcdf").content
    b = cov(client, "eraint", subset="level(300:900),longitude(0:3),latitude(0:3)", f="netcdf").content
    np.testing.assert_array_equal(netcdf(a).z.values, netcdf(b).z.values)


def test_conf_subsetting_general_subset_scaling_exclusivity(client):
    """/conf/subsetting-general/subset-scaling-exclusivity: a level slice with level scaling is a 4xx."""
    r = cov(client, "eraint", subset="level(500)", **{"scale-size": "level(1)"})
    assert r.status_code == 400 and r.json()["parameter"] == "scale-size"


# ------------------------------------------------------------------ encodings

@pytest.mark.parametrize("f, media", [("geotiff", "image/tiff"), ("netcdf", "application/x-netcdf"),
                                      ("covjson", "application/prs.coverage+json"), ("png", "image/png")])
def test_conf_encoding_coverage(client, f, media):
    """/conf/geotiff/coverage, /conf/netcdf/coverage, /conf/coveragejson/coverage, /conf/png/coverage: the coverage
    in each declared format, by `f` and by Accept, with its signature bytes."""
    magic = {"geotiff": (b"II*\x00", b"MM\x00*", b"II+\x00"), "netcdf": (b"CDF", b"\x89HDF"), "png": (b"\x89PNG",),
             "covjson": (b"{",)}[f]
    for r in (cov(client, subset="Lon(0:20),Lat(0:20)", properties="SST", f=f),
              client.get("/collections/coads/coverage", params={"subset": "Lon(0:20),Lat(0:20)", "properties": "SST"},
                         headers={"Accept": media})):
        assert r.status_code == 200 and r.headers["content-type"].startswith(media) and r.content.startswith(magic)
    if f == "covjson":
        validate(cov(client, subset="Lon(0:20),Lat(0:20)", properties="SST", f=f).json(), "coveragejson/coveragejson.json")
