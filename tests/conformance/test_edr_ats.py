"""EDR 1.1 abstract test suite (1.1.0-final, standard/abstract_tests), the tests checkable over HTTP.

One test per abstract test id, named after it; *-definition tests are OpenAPI checks (left to the
OpenAPI conformance module). Expected values come from the source files (xarray), not from the server.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import open_source

B = "/collections/coads"
POINT = {"coords": "POINT(-30 40)"}
RADIUS = {**POINT, "within": "300", "within-units": "km"}
LINE = "LINESTRING(-40 40,-30 40)"
CORRIDOR = {"coords": LINE, "corridor-width": "300", "width-units": "km", "corridor-height": "0",
            "height-units": "m"}
T0 = "2000-01-16T06:00:00Z"


def get(client, path, status=200, **params):
    r = client.get(path, params=params)
    assert r.status_code == status, (path, params, r.status_code, r.text[:300])
    return r


def without(params: dict, name: str) -> dict:
    return {k: v for k, v in params.items() if k != name}


def variables(client, cid: str, q: str) -> dict:
    return get(client, f"/collections/{cid}").json()["data_queries"][q]["link"]["variables"]


def test_conf_edr_rc_collection_info(client):
    """/conf/edr/rc-collection-info: every collection has id, links, extent, data_queries, parameter_names."""
    for c in get(client, "/collections").json()["collections"]:
        assert c["id"] and c["links"] and "spatial" in c["extent"]
        assert c["data_queries"] and isinstance(c["parameter_names"], dict) and c["output_formats"]


def test_conf_edr_rc_data_queries(client):
    """/conf/edr/rc-data-queries and /conf/edr/rc-common-query-type: link with href, rel and variables."""
    for c in get(client, "/collections").json()["collections"]:
        for q, entry in c["data_queries"].items():
            assert q in ("position", "radius", "area", "cube", "trajectory", "corridor", "items", "locations",
                         "instances")
            assert entry["link"]["href"] and entry["link"]["rel"] and entry["link"]["variables"]


def test_conf_edr_rc_common_variables(client):
    """/conf/edr/rc-common-variables: query_type matches, default format among output_formats, crs_details."""
    for c in get(client, "/collections").json()["collections"]:
        for q, entry in c["data_queries"].items():
            v = entry["link"]["variables"]
            assert v["query_type"] == q
            if "output_formats" in v:
                assert all(isinstance(f, str) for f in v["output_formats"])
            if "default_output_format" in v:
                assert v["default_output_format"] in v.get("output_formats", []) + c["output_formats"]
            for d in v.get("crs_details", []):
                assert d["crs"] and d["wkt"]


def test_conf_edr_rc_radius_variables(client):
    """/conf/edr/rc-radius-variables: within_units is a string array."""
    units = variables(client, "coads", "radius")["within_units"]
    assert units and all(isinstance(u, str) for u in units)


def test_conf_edr_rc_cube_variables(client):
    """/conf/edr/rc-cube-variables: height_units is a string array (the z units; empty without z)."""
    assert variables(client, "eraint", "cube")["height_units"] == ["millibars"]
    assert variables(client, "coads", "cube")["height_units"] == []


def test_conf_edr_rc_corridor_variables(client):
    """/conf/edr/rc-corridor-variables: height_units and width_units are string arrays."""
    for cid in ("coads", "eraint", "basin-mask"):
        v = variables(client, cid, "corridor")
        assert v["width_units"] and all(isinstance(u, str) for u in v["width_units"])
        assert v["height_units"] and all(isinstance(u, str) for u in v["height_units"])


def test_conf_edr_rc_items_variables(client):
    """/conf/edr/rc-items-variables: a Features collection declares the items query."""
    assert variables(client, "places", "items")["query_type"] == "items"


def test_conf_edr_rc_parameters(client):
    """/conf/edr/rc-parameters: type, observedProperty with label and id, for every parameter."""
    for c in get(client, "/collections").json()["collections"]:
        for name, p in c["parameter_names"].items():
            assert p["type"] == "Parameter" and p["observedProperty"]["label"] and p["observedProperty"]["id"]
    eraint = get(client, "/collections/eraint").json()["parameter_names"]
    assert eraint["u"]["observedProperty"]["id"] == "http://vocab.nerc.ac.uk/standard_name/eastward_wind/"


def test_conf_edr_rc_crs(client):
    """/conf/edr/rc-crs: each crs entry has a unique name and a WKT pyproj reads."""
    from pyproj import CRS

    details = variables(client, "landsat-rgb", "position")["crs_details"]
    assert len({d["crs"] for d in details}) == len(details)
    for d in details:
        CRS.from_wkt(d["wkt"])


def test_conf_edr_rc_crs_response(client):
    """/conf/edr/REQ_rc-crs-response: listed crs values work, others are a 400; no crs: the extent's CRS."""
    for d in variables(client, "landsat-rgb", "position")["crs_details"]:
        if "32618" in d["crs"]:
            get(client, "/collections/landsat-rgb/position", coords="POINT(200000 2700000)", crs=d["crs"])
        else:
            get(client, "/collections/landsat-rgb/position", coords="POINT(-77.7 24.6)", crs=d["crs"])
    get(client, "/collections/landsat-rgb/position", 400, coords="POINT(-77.7 24.6)", crs="EPSG:3857")
    extent_crs = get(client, "/collections/landsat-rgb").json()["extent"]["spatial"]["crs"]
    cov = get(client, "/collections/landsat-rgb/position", coords="POINT(-77.7 24.6)").json()
    assert cov["domain"]["referencing"][0]["system"]["id"] == extent_crs


def test_conf_edr_rc_coords_response(client):
    """/conf/edr/rc-coords-response: coords without crs are read in the extent's CRS (CRS84)."""
    from pyproj import Transformer

    src = open_source("RGB.byte.tif").band_data
    x, y = Transformer.from_crs("OGC:CRS84", "EPSG:32618", always_xy=True).transform(-77.7, 24.6)
    cov = get(client, "/collections/landsat-rgb/position", coords="POINT(-77.7 24.6)").json()
    assert cov["ranges"]["band_1"]["values"][0] == float(src.sel(band=1, x=x, y=y, method="nearest"))


def test_conf_collections_rc_within_response(client):
    """/conf/collections/REQ_rc-within-response: within without within-units is a 400."""
    r = get(client, f"{B}/radius", 400, **without(RADIUS, "within-units"))
    assert r.json()["parameter"] == "within-units" and "km" in r.json()["detail"]


def test_conf_collections_rc_within_units_response(client):
    """/conf/collections/REQ_rc-within-units-response: units not listed are an error; listed ones scale."""
    get(client, f"{B}/radius", 400, **{**RADIUS, "within-units": "furlongs"})
    km = get(client, f"{B}/radius", **{**RADIUS, "datetime": T0}).json()
    m = get(client, f"{B}/radius", **{**RADIUS, "within": "300000", "within-units": "m", "datetime": T0}).json()
    assert km["domain"]["axes"] == m["domain"]["axes"]


def test_conf_collections_rc_corridor_width_response(client):
    """/conf/collections/REQ_rc-corridor-width-response: corridor-width missing is a 400."""
    get(client, f"{B}/corridor", 400, **without(CORRIDOR, "corridor-width"))
    for v in ("1e300", "1e-100", "inf", "-1"):
        get(client, f"{B}/corridor", 400, **{**CORRIDOR, "corridor-width": v})


def test_conf_collections_rc_corridor_height_response(client):
    """/conf/collections/REQ_rc-corridor-height-response: missing is a 400; on 2-D data it has no effect."""
    assert get(client, f"{B}/corridor", 400, **without(CORRIDOR, "corridor-height")).json()["parameter"] == \
        "corridor-height"
    a = get(client, f"{B}/corridor", **{**CORRIDOR, "datetime": T0}).json()
    b = get(client, f"{B}/corridor", **{**CORRIDOR, "datetime": T0, "corridor-height": "5000"}).json()
    assert a == b
    cov = get(client, "/collections/basin-mask/corridor", **{**CORRIDOR, "coords": "LINESTRINGZ(-30 40 100,-25 40 200)",
                                                            "corridor-height": "60"}).json()
    assert cov["domain"]["axes"]["z"]["values"] == [75, 100, 125, 150, 200]


def test_conf_collections_rc_width_units_response(client):
    """/conf/collections/REQ_rc-width-units-response: missing or unlisted width-units is a 400."""
    get(client, f"{B}/corridor", 400, **without(CORRIDOR, "width-units"))
    get(client, f"{B}/corridor", 400, **{**CORRIDOR, "width-units": "furlongs"})


def test_conf_collections_rc_height_units_response(client):
    """/conf/collections/rc-height-units-response: missing or unlisted height-units is a 400."""
    get(client, f"{B}/corridor", 400, **without(CORRIDOR, "height-units"))
    r = get(client, "/collections/eraint/corridor", 400, **CORRIDOR)  # eraint lists millibars only
    assert "millibars" in r.json()["detail"]


def test_conf_edr_rc_resolution_x_response(client):
    """/conf/edr/rc-resolution-x-response: n values on x; 0 = native; bad values a 400."""
    cov = get(client, f"{B}/cube", bbox="-40,30,-20,40", datetime=T0, **{"resolution-x": "4"}).json()
    assert len(cov["domain"]["axes"]["x"]["values"]) == 4
    native = get(client, f"{B}/cube", bbox="-40,30,-20,40", datetime=T0, **{"resolution-x": "0"}).json()
    assert len(native["domain"]["axes"]["x"]["values"]) == 10
    for v in ("-1", "1.5", "nan", "inf", "1e300"):
        get(client, f"{B}/cube", 400, bbox="-40,30,-20,40", **{"resolution-x": v})


def test_conf_edr_rc_resolution_y_response(client):
    """/conf/edr/rc-resolution-y-response: n values on y, on area, cube and corridor."""
    cov = get(client, f"{B}/area", coords="POLYGON((-40 20,-30 20,-30 40,-40 40,-40 20))", datetime=T0,
              **{"resolution-y": "3"}).json()
    assert len(cov["domain"]["axes"]["y"]["values"]) == 3
    cov = get(client, f"{B}/corridor", **{**CORRIDOR, "coords": "LINESTRING(-40 30,-30 40)", "datetime": T0,
                                          "resolution-y": "2"}).json()
    assert len(cov["domain"]["axes"]["y"]["values"]) == 2


def test_conf_edr_rc_resolution_z_response(client):
    """/conf/edr/rc-resolution-z-response: n levels from the lowest to the highest (nearest levels)."""
    src = open_source("basin_mask.nc")
    levels = src.Z.values
    cov = get(client, "/collections/basin-mask/cube", bbox="-31,39,-29,41", **{"resolution-z": "3"}).json()
    got = cov["domain"]["axes"]["z"]["values"]
    assert len(got) == 3 and got[0] == levels.min() and got[-1] == levels.max()
    get(client, "/collections/basin-mask/cube", 400, bbox="-31,39,-29,41", **{"resolution-z": "-2"})


def test_conf_edr_rc_z_response(client):
    """/conf/edr/rc-z-response: only the levels asked."""
    cov = get(client, "/collections/eraint/position", coords="POINT(0 45)", z="500", month="1").json()
    assert cov["domain"]["axes"]["z"]["values"] == [500]
    get(client, "/collections/eraint/position", 400, coords="POINT(0 45)", z="123")


def test_conf_edr_rc_parameter_name_response(client):
    """/conf/edr/rc-parameter-name-response: only the parameters asked."""
    cov = get(client, f"{B}/position", **POINT, **{"parameter-name": "SST,AIRT"}).json()
    assert set(cov["ranges"]) == {"SST", "AIRT"}
    get(client, f"{B}/position", 400, **POINT, **{"parameter-name": "nope"})


def test_conf_core_datetime_response(client):
    """/conf/core/datetime-response: only the times asked; intervals and open ends."""
    times = open_source("coads_sst.nc").TIME.values
    cov = get(client, f"{B}/position", **POINT, datetime="2000-03-01/2000-05-31").json()
    assert len(cov["domain"]["axes"]["t"]["values"]) == 3
    cov = get(client, f"{B}/position", **POINT, datetime="2000-10-01/..").json()
    assert len(cov["domain"]["axes"]["t"]["values"]) == int((times >= np.datetime64("2000-10-01")).sum())


def test_conf_edr_query_type_no_data(client):
    """/conf/edr/query_type/no-data: a shared parameter (datetime) outside the extent is 204 (no body)."""
    for q, params in (("position", POINT), ("radius", RADIUS), ("corridor", CORRIDOR)):
        r = get(client, f"{B}/{q}", 204, **params, datetime="1990-01-01T00:00:00Z")
        assert r.content == b""


def test_conf_edr_geojson_content(client):
    """/conf/edr-geojson/content: features carry datetime, parameter-name, label, edrqueryendpoint."""
    doc = get(client, f"{B}/radius", **RADIUS, datetime=T0, f="GeoJSON").json()
    for f in doc["features"]:
        p = f["properties"]
        assert p["datetime"] == T0 and p["parameter-name"] and p["label"] and p["edrqueryendpoint"]
    loc = get(client, f"{B}/locations").json()["features"][0]["properties"]
    assert loc["datetime"] and loc["parameter-name"] and loc["label"] and loc["edrqueryendpoint"]


def test_conf_covjson_content(client):
    """/conf/covjson/content: values equal the source (schema checks: test_edr_schemas.py)."""
    cov = get(client, f"{B}/position", **POINT, **{"parameter-name": "SST"}).json()
    src = open_source("coads_sst.nc").SST.sel(COADSX=-30, COADSY=40, method="nearest").values
    got = np.array([np.nan if v is None else v for v in cov["ranges"]["SST"]["values"]])
    np.testing.assert_allclose(got, src, rtol=1e-6)


@pytest.mark.parametrize("q,params,missing", [
    ("position", POINT, "coords"), ("area", {"coords": "POLYGON((0 0,1 0,1 1,0 0))"}, "coords"),
    ("cube", {"bbox": "0,0,1,1"}, "bbox"), ("radius", RADIUS, "within"), ("trajectory", {"coords": LINE}, "coords"),
    ("corridor", CORRIDOR, "corridor-width"),
])
def test_conf_query_no_query_params_and_missing_required(client, q, params, missing):
    """/conf/{position,area,cube,radius,trajectory,corridor}/no-query-params and no-*-param: 400."""
    get(client, f"{B}/{q}", 400)
    get(client, f"{B}/{q}", 400, **without(params, missing))


def test_conf_trajectory_corridor_coords_param_separate_z(client):
    """/conf/trajectory|corridor/coords-param-separate-z-linestringz(m): Z in coords and z is a 400."""
    z = {"coords": "LINESTRINGZ(-30 40 100,-25 40 200)", "z": "100"}
    get(client, "/collections/basin-mask/trajectory", 400, **z)
    get(client, "/collections/basin-mask/corridor", 400, **{**CORRIDOR, **z})


def test_conf_trajectory_coords_param_invalid_time(client):
    """/conf/trajectory/coords-param-invalid-time: M outside the temporal extent is a 400."""
    get(client, f"{B}/trajectory", 400, coords="LINESTRINGM(-40 40 0,-30 40 1)")


def test_conf_locations(client):
    """/conf/locations/no-query-params (200, GeoJSON list) and location-identifier-invalid (404)."""
    r = get(client, f"{B}/locations")
    assert r.headers["content-type"] == "application/geo+json" and r.json()["features"]
    get(client, f"{B}/locations/no-such-place", 404)


def test_conf_edr_rc_custom_dimension_response(client):
    """/conf/edr/rc-custom-dimension-response: month selects; without it every month is returned."""
    one = get(client, "/collections/eraint/position", coords="POINT(0 45)", month="7", z="500").json()
    assert one["type"] == "Coverage"
    both = get(client, "/collections/eraint/position", coords="POINT(0 45)", z="500").json()
    assert len(both["coverages"]) == 2
