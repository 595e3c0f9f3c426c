"""OWSLib's EDR client against the real CLI server."""

from __future__ import annotations

import numpy as np
import pytest
from owslib.ogcapi.edr import EnvironmentalDataRetrieval

from tests.conftest import open_source


def test_owslib_edr_position_area_cube(live_server):
    edr = EnvironmentalDataRetrieval(live_server, timeout=60)
    assert "coads" in edr.data() and "places" not in edr.data()
    coll = edr.collection("coads")
    assert "position" in coll["data_queries"]
    cov = edr.query_data("coads", "position", coords="POINT(-25.3 38.6)", parameter_names=["SST"])
    src = open_source("coads_sst.nc").SST.sel(COADSX=-25.3, COADSY=38.6, method="nearest")
    got = np.array([np.nan if v is None else v for v in cov["ranges"]["SST"]["values"]])
    np.testing.assert_allclose(got, src.values, rtol=1e-6)
    area = edr.query_data("coads", "area", coords="POLYGON((-30 30,-20 30,-20 40,-30 40,-30 30))",
                          parameter_names=["AIRT"], datetime_="2000-01-16T06:00:00Z")
    assert area["domain"]["domainType"] == "Grid" and list(area["ranges"]) == ["AIRT"]
    cube = edr.query_data("eraint", "cube", bbox=[0, 40, 5, 45], z="500", parameter_names=["u"])
    assert cube["type"] == "CoverageCollection" and len(cube["coverages"]) == 2
    # EDR 1.1 requires within-units (ATS /conf/radius/no-within_units-param), which OWSLib's query_data cannot
    # send (its argument map has no within_units): its radius query gets the 400 naming the parameter
    with pytest.raises(RuntimeError, match="within-units"):
        edr.query_data("coads", "radius", coords="POINT(-30 40)", within=300, parameter_names=["SST"])
