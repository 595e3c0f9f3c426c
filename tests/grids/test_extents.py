"""The CRS84 extent of rotated and projected grids reaches the true extremes of their curved edges.

Truth: every cell edge point (5000 per side) transformed with pyproj from the file's own grid mapping.
"""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import GRIDS, Native


def _edge_extremes(nat: Native) -> tuple[float, float, float, float]:
    hx, hy = abs(nat.xs[1] - nat.xs[0]) / 2, abs(nat.ys[1] - nat.ys[0]) / 2
    x0, x1, y0, y1 = nat.xs.min() - hx, nat.xs.max() + hx, nat.ys.min() - hy, nat.ys.max() + hy
    t = np.linspace(0, 1, 5000)
    xs = np.concatenate([x0 + t * (x1 - x0), np.full_like(t, x1), x1 - t * (x1 - x0), np.full_like(t, x0)])
    ys = np.concatenate([np.full_like(t, y0), y0 + t * (y1 - y0), np.full_like(t, y1), y1 - t * (y1 - y0)])
    lon, lat = nat.back.transform(xs, ys)
    return float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))


@pytest.mark.parametrize("cid", ["rp", "toa"])
def test_crs84_extent_reaches_the_curved_edges(grids_client, cid):
    g = GRIDS[cid]
    nat = Native(g, g.source())
    truth = _edge_extremes(nat)
    bbox = grids_client.get(f"/collections/{cid}", params={"f": "json"}).json()["extent"]["spatial"]["bbox"][0]
    assert bbox == pytest.approx(truth, abs=2e-3)
