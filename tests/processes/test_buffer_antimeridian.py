"""A buffer that crosses ±180° comes back as a valid MultiPolygon cut there (RFC 7946 §3.1.9)."""

from __future__ import annotations

import pytest
from pyproj import Geod
from shapely.geometry import shape

GEOD = Geod(ellps="WGS84")


def _buffer(client, lon, lat, metres=5000):
    r = client.post("/processes/buffer/execution", json={
        "inputs": {"geometry": {"type": "Point", "coordinates": [lon, lat]}, "distance": metres}})
    assert r.status_code == 200, r.text[:300]
    return shape(r.json())


@pytest.mark.parametrize("lon,lat", [(179.99, 0.0), (-179.99, 10.0)])
def test_buffer_across_the_antimeridian(client, lon, lat):
    g = _buffer(client, lon, lat)
    assert g.is_valid and g.geom_type == "MultiPolygon" and len(g.geoms) == 2
    assert g.bounds[0] == -180.0 and g.bounds[2] == 180.0
    same_far_from_it = _buffer(client, 0.0, lat)
    area, ref = (abs(GEOD.geometry_area_perimeter(x)[0]) for x in (g, same_far_from_it))
    assert area == pytest.approx(ref, rel=1e-6)  # same geodesic disc, only cut in two


def test_buffer_elsewhere_stays_one_polygon(client):
    g = _buffer(client, 10.0, 45.0)
    assert g.geom_type == "Polygon" and g.is_valid
