"""Zonal statistics on rotated and projected grids count exactly the cells whose true lon/lat centre
lies inside the lon/lat polygon (its edges are curves in the native CRS).

Truth: cell centres transformed with pyproj from the file's own grid mapping, shapely in lon/lat.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from .conftest import GRIDS, Native


@pytest.mark.parametrize("cid,box", [("rp", (-10, 45, 10, 60)), ("toa", (-60, 50, 0, 70))])
def test_zonal_statistics_count_the_cells_inside(grids_client, cid, box):
    g = GRIDS[cid]
    src = g.source()
    nat = Native(g, src)
    lon, lat = nat.centres_lonlat()
    poly = shapely.box(*box)
    field = g.field(src).squeeze().values
    inside = shapely.intersects_xy(poly, lon, lat) & np.isfinite(field)
    body = {"inputs": {"features": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(poly)}]},
        "collection": cid, "variable": g.var}}
    r = grids_client.post("/processes/zonal-statistics/execution", json=body)
    assert r.status_code == 200, r.text[:400]
    stats = r.json()["statistics"][0]
    assert stats["count"] == int(inside.sum())
    assert stats["mean"] == pytest.approx(float(field[inside].astype("float64").mean()), rel=1e-6)
    assert stats["min"] == pytest.approx(float(field[inside].min()), rel=1e-6)
