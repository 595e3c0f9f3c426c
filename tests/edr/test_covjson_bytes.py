"""CoverageJSON without repeats (#15 item 2): a CoverageCollection writes shared parameters and referencing
once, stays valid against the official CoverageJSON and EDR schemas, and decodes to the values xarray reads.
Values are float32 written as their shortest round-trip text (orjson), so they parse back to the same float32."""

from __future__ import annotations

import numpy as np
import orjson

from tests.conformance.test_edr_schemas import check_covjson
from tests.conftest import open_source

from .conftest import covjson


def test_multipoint_collection_shares_parameters_and_referencing(client):
    src = open_source("coads_sst.nc")
    pts = [(-25.3, 38.6), (-30.1, 40.2), (-20.0, 35.0)]
    wkt = "MULTIPOINT(" + ",".join(f"({x} {y})" for x, y in pts) + ")"
    doc = covjson(client, "/collections/coads/position", coords=wkt, parameter_name="SST")
    assert doc["type"] == "CoverageCollection" and len(doc["coverages"]) == 3
    check_covjson(doc)  # the official CoverageJSON schema and EDR's coverageJSON.yaml (less its oneOf defects)
    assert list(doc["parameters"]) == ["SST"] and doc["referencing"]
    for cov, (x, y) in zip(doc["coverages"], pts):
        assert "parameters" not in cov and "referencing" not in cov["domain"]  # once, at collection level
        expected = src.SST.sel(COADSX=x, COADSY=y, method="nearest").values
        got = np.array([np.nan if v is None else v for v in cov["ranges"]["SST"]["values"]], dtype="float64")
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        # shortest round-trip float32 text: the float32 parsed back is exactly the source's float32
        np.testing.assert_array_equal(got.astype("float32")[~np.isnan(got)],
                                      expected.astype("float32")[~np.isnan(expected)])


def test_shared_members_are_not_repeated_in_bytes(client):
    """The serialised collection holds the parameter definition and the CRS once."""
    r = client.get("/collections/coads/position", params={"coords": "MULTIPOINT((-25.3 38.6),(-30.1 40.2))",
                                                           "parameter-name": "SST", "f": "CoverageJSON"})
    assert r.status_code == 200
    body = r.content
    assert body.count(b'"observedProperty"') == 1 and body.count(b'"referencing"') == 1
    assert orjson.loads(body)["type"] == "CoverageCollection"


def test_whole_floats_without_trailing_zero(tmp_path):
    """Float data holding whole numbers (counts, zero precipitation) are written `3`, not `3.0`; decoded they
    equal the source's values; the answer stays a valid CoverageJSON float NdArray."""
    import pandas as pd
    import xarray as xr

    from tests.conftest import client_for

    rng = np.random.default_rng(0)
    values = rng.integers(0, 5, (6, 4, 5)).astype("float32")
    values[0, 0, 0] = np.nan
    values[1, 1, 1] = 2.5
    ds = xr.Dataset({"pr": (("time", "lat", "lon"), values, {"units": "mm"})},
                    coords={"time": pd.date_range("2020-01-01", periods=6, freq="D"),
                            "lat": ("lat", [40.0, 41.0, 42.0, 43.0], {"units": "degrees_north"}),
                            "lon": ("lon", [0.0, 1.0, 2.0, 3.0, 4.0], {"units": "degrees_east"})})
    path = tmp_path / "pr.nc"
    ds.to_netcdf(path)
    with client_for({"pr": {"path": str(path)}}, tmp_path) as client:
        r = client.get("/collections/pr/cube", params={"bbox": "0,40,4,43", "f": "CoverageJSON"},
                       headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200, r.text
        assert b".0," not in r.content and b".0]" not in r.content
        doc = orjson.loads(r.content)
        check_covjson(doc)
        assert doc["ranges"]["pr"]["dataType"] == "float"
        got = np.array([np.nan if v is None else v for v in doc["ranges"]["pr"]["values"]], dtype="float64")
        with xr.open_dataset(path) as src:
            expected = src["pr"].transpose("time", "lat", "lon").values.reshape(-1).astype("float64")
        np.testing.assert_array_equal(got, expected)
