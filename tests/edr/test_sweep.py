"""Every query type on every bundled grid answers 200 with valid CoverageJSON (and each point format)."""

from __future__ import annotations

import pytest

from .conftest import covjson, query

GRIDS = {  # a lon/lat point well inside each collection, and a small offset in degrees
    "coads": (-25.3, 38.6, 3.0),
    "eraint": (10.2, 45.1, 2.0),
    "mur-sst": (-27.5, 40.5, 0.2),
    "landsat-rgb": (-77.7, 24.55, 0.05),
    "basin-mask": (-30.2, 40.3, 3.0),
    "cmip5-pr": (-100.2, 50.3, 3.0),
    "cogeo": (128.658, 37.6686, 0.0002),
    "gem-global": (-73.6, 45.5, 1.0),
    "hrdps": (-100.2, 50.3, 0.1),
    "rotated-pole": (0.2, 52.1, 5.0),
    "hybrid-height": (-3.11, 52.41, 0.02),
    "hadcm3-a1b": (-100.2, 40.3, 5.0),
    "toa-stereo": (-4.4, 51.6, 1.0),
    "orca2": (-30.2, 40.3, 5.0),
    "nemo-sst": (-30.2, 40.3, 3.0),
    "cmip6-ta": (0.94, 89.28, 0.5),  # a cell centre: the cells are 0.94° × 0.93° near the pole
}


def _queries(x, y, d, height_units="m"):
    box = f"POLYGON(({x - d} {y - d},{x + d} {y - d},{x + d} {y + d},{x - d} {y + d},{x - d} {y - d}))"
    line = f"LINESTRING({x - d} {y - d / 2},{x + d} {y + d / 2})"
    km = d * 40.0
    return {
        "position": {"coords": f"POINT({x} {y})"},
        "area": {"coords": box},
        "cube": {"bbox": f"{x - d},{y - d},{x + d},{y + d}"},
        "radius": {"coords": f"POINT({x} {y})", "within": str(km), "within-units": "km"},
        "trajectory": {"coords": line},
        "corridor": {"coords": line, "corridor-width": str(km), "width-units": "km", "corridor-height": "0",
                     "height-units": height_units},
    }


@pytest.mark.parametrize("cid", list(GRIDS))
def test_every_query_type(client, cid):
    x, y, d = GRIDS[cid]
    meta = client.get(f"/collections/{cid}").json()["data_queries"]["corridor"]["link"]["variables"]
    for qtype, params in _queries(x, y, d, meta["height_units"][0]).items():
        covjson(client, f"/collections/{cid}/{qtype}", **{k.replace("-", "_"): v for k, v in params.items()})
        if qtype in ("position", "radius", "trajectory", "corridor"):
            for f in ("geojson", "csv"):
                query(client, f"/collections/{cid}/{qtype}", f=f, **params)
