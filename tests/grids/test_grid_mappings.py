"""Grids with a CF grid mapping (CF 1.11 section 5.6): the CRS, the extent and every EDR query type.

Expected cells and values come from the file itself: its grid-mapping attributes through
`pyproj.CRS.from_cf`, pyproj transformations, xarray's nearest selection, pyproj.Geod and shapely.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import xarray as xr
from pyproj import CRS, Geod, Transformer

from .conftest import CRS84, GRIDS, Native, covjson, grid_cells, interior_points, same_crs

GEOD = Geod(ellps="WGS84")
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def native_crs_of(client, cid: str) -> CRS:
    """The collection's native CRS as published (the `storageCrs`, a URI or WKT)."""
    doc = client.get(f"/collections/{cid}").json()
    return CRS.from_user_input(doc["storageCrs"])


# ---------------------------------------------------------------- c01: the CORDEX-style case

def test_c01_position_is_the_rotated_cell(grids_client, cases):
    cov = covjson(grids_client, "/collections/c01/position", coords="POINT(13.4 52.5)",
                  datetime="2000-01-01T00:00:00Z")
    assert cov["ranges"]["tas"]["values"] == [10007.0]  # rlat index 10, rlon index 7
    # the rotated cell (-3, 2), answered in CRS84 (the extent's CRS, EDR /req/core/crs) as no crs was asked
    src = xr.open_dataset(cases / "c01_rotated_pole.nc")
    lon, lat = Transformer.from_crs(CRS.from_cf(src.rotated_pole.attrs), CRS84, always_xy=True).transform(-3.0, 2.0)
    assert cov["domain"]["axes"]["x"]["values"] == pytest.approx([lon])
    assert cov["domain"]["axes"]["y"]["values"] == pytest.approx([lat])


def test_c01_outside_and_out_of_range(grids_client):
    body = covjson(grids_client, "/collections/c01/position", status=400, coords="POINT(0 0)")
    assert body["parameter"] == "coords" and "outside" in body["detail"]
    body = covjson(grids_client, "/collections/c01/position", status=400, coords="POINT(500 38.6)")
    assert body["parameter"] == "coords" and "500" in body["detail"] and "-180..360" in body["detail"]


def test_c01_collection_crs_is_the_rotated_pole(grids_client, cases):
    src = xr.open_dataset(cases / "c01_rotated_pole.nc")
    expected = CRS.from_cf(src.rotated_pole.attrs)
    doc = grids_client.get("/collections/c01").json()
    assert same_crs(doc["storageCrs"], expected)
    assert any(same_crs(c, expected) for c in doc["crs"])
    assert not CRS.from_user_input(doc["storageCrs"]).equals(CRS84)
    native = doc["extent"]["spatial"]["native"]
    assert same_crs(native["crs"], expected)
    assert native["bbox"] == pytest.approx([-10.5, -8.5, 10.5, 8.5])


def test_c01_extent_is_the_lonlat_of_the_cell_edges(grids_client, cases):
    src = xr.open_dataset(cases / "c01_rotated_pole.nc")
    bbox = grids_client.get("/collections/c01").json()["extent"]["spatial"]["bbox"][0]
    # the README's answer (cell centres): lon -0.7..36.7, lat 41.8..58.8; the extent holds the cell edges
    centres = [float(src.lon.min()), float(src.lat.min()), float(src.lon.max()), float(src.lat.max())]
    assert centres == pytest.approx([-0.7, 41.8, 36.7, 58.8], abs=0.05)
    assert bbox[0] <= centres[0] and bbox[1] <= centres[1] and bbox[2] >= centres[2] and bbox[3] >= centres[3]
    # edges: half a cell (0.5 rotated degrees, at most ~1.5 degrees of longitude here) beyond the centres
    assert float(src.lon.min()) - bbox[0] < 1.5 and bbox[2] - float(src.lon.max()) < 1.5
    assert float(src.lat.min()) - bbox[1] < 0.75 and bbox[3] - float(src.lat.max()) < 0.75
    # and exactly pyproj's densified transform of the edge rectangle
    tr = Transformer.from_crs(CRS.from_cf(src.rotated_pole.attrs), CRS84, always_xy=True)
    assert bbox == pytest.approx(list(tr.transform_bounds(-10.5, -8.5, 10.5, 8.5, densify_pts=101)), abs=0.02)


def test_c01_position_in_each_crs(grids_client, cases):
    src = xr.open_dataset(cases / "c01_rotated_pole.nc")
    crs = CRS.from_cf(src.rotated_pole.attrs)
    lon, lat = Transformer.from_crs(crs, CRS84, always_xy=True).transform(-3.0, 2.0)
    # EPSG:4326 out: the answering cell's centre in lon/lat
    cov = covjson(grids_client, "/collections/c01/position", coords="POINT(13.4 52.5)", crs="EPSG:4326",
                  datetime="2000-01-01T00:00:00Z")
    assert cov["domain"]["axes"]["x"]["values"][0] == pytest.approx(lon)
    assert cov["domain"]["axes"]["y"]["values"][0] == pytest.approx(lat)
    # the native CRS in and out: rotated coordinates
    native = grids_client.get("/collections/c01").json()["storageCrs"]
    cov = covjson(grids_client, "/collections/c01/position", coords="POINT(-2.8 2.3)", crs=native,
                  datetime="2000-01-01T00:00:00Z")
    assert cov["ranges"]["tas"]["values"] == [10007.0]
    assert cov["domain"]["axes"]["x"]["values"] == [-3.0]
    assert same_crs(cov["domain"]["referencing"][0]["system"]["wkt"], crs)


def test_c01_named_location(grids_client):
    cov = covjson(grids_client, "/collections/c01/locations/berlin", datetime="2000-01-01T00:00:00Z")
    assert cov["ranges"]["tas"]["values"] == [10007.0]


# ---------------------------------------------------------------- real files, every query type

@pytest.fixture(scope="module", params=list(GRIDS))
def grid(request):
    g = GRIDS[request.param]
    src = g.source()
    return g, src, Native(g, src)


def _height_units(client, cid: str) -> str:
    """The first height-units the collection's corridor query lists (required by EDR 1.1)."""
    doc = client.get(f"/collections/{cid}").json()
    return doc["data_queries"]["corridor"]["link"]["variables"]["height_units"][0]


def _params(g, **kw):
    return {"parameter-name": g.var, **dict(g.params), **kw}


def test_collection_crs_and_extent(grids_client, grid):
    g, src, nat = grid
    doc = grids_client.get(f"/collections/{g.cid}").json()
    assert same_crs(doc["storageCrs"], nat.crs)
    bbox = doc["extent"]["spatial"]["bbox"][0]
    lon, lat = nat.centres_lonlat()
    if bbox[0] <= -180 and bbox[2] >= 180:  # a pole inside: check it is
        px, py = nat.to_native(0.0, 90.0 if bbox[3] >= 90 else -90.0)
        assert nat.xs.min() <= px <= nat.xs.max() and nat.ys.min() <= py <= nat.ys.max()
    else:
        assert bbox[0] <= lon.min() and lon.max() <= bbox[2]
    assert bbox[1] <= lat.min() and lat.max() <= bbox[3]


def test_position_matches_pyproj_and_xarray(grids_client, grid):
    g, src, nat = grid
    for lon, lat in interior_points(nat, 5):
        exp = nat.nearest(lon, lat)
        cov = covjson(grids_client, f"/collections/{g.cid}/position", coords=f"POINT({lon} {lat})", **_params(g))
        got = cov["ranges"][g.var]["values"][0]
        assert got == pytest.approx(float(exp)) if np.isfinite(exp) else got is None
        # without crs: the cell's centre in CRS84, the extent's CRS (EDR /req/core/crs), as with crs=CRS84
        ex, ey = nat.back.transform(float(exp[g.x]), float(exp[g.y]))
        assert (cov["domain"]["axes"]["x"]["values"][0], cov["domain"]["axes"]["y"]["values"][0]) == \
            pytest.approx((ex, ey), abs=1e-6)
        cov = covjson(grids_client, f"/collections/{g.cid}/position", coords=f"POINT({lon} {lat})",
                      crs="CRS84", **_params(g))
        cx, cy = cov["domain"]["axes"]["x"]["values"][0], cov["domain"]["axes"]["y"]["values"][0]
        ex, ey = nat.back.transform(float(exp[g.x]), float(exp[g.y]))
        assert (cx, cy) == pytest.approx((ex, ey), abs=1e-6)


def test_multipoint(grids_client, grid):
    g, src, nat = grid
    pts = interior_points(nat, 3, seed=11)
    wkt = "MULTIPOINT(" + ",".join(f"({a} {b})" for a, b in pts) + ")"
    doc = covjson(grids_client, f"/collections/{g.cid}/position", coords=wkt, **_params(g))
    for cov, (lon, lat) in zip(doc["coverages"], pts):
        exp = float(nat.nearest(lon, lat))
        got = cov["ranges"][g.var]["values"][0]
        assert (got is None and not np.isfinite(exp)) or got == pytest.approx(exp)


def _box_around(lon, lat, d=1.5):
    return lon - d, lat - d / 2, lon + d, lat + d / 2


def test_cube_is_the_native_window_of_the_bbox(grids_client, grid):
    g, src, nat = grid
    lon, lat = interior_points(nat, 1, seed=3)[0]
    box = _box_around(lon, lat, 3 * nat.cell_deg)
    cov = covjson(grids_client, f"/collections/{g.cid}/cube", bbox=",".join(map(str, box)), **_params(g))
    x0, y0, x1, y1 = nat.fwd.transform_bounds(*box, densify_pts=21)
    x0 = float(nat.frame(x0 + (x1 - x0) / 2) - (x1 - x0) / 2)
    x1 = x0 + (nat.fwd.transform_bounds(*box, densify_pts=21)[2] - nat.fwd.transform_bounds(*box, densify_pts=21)[0])
    exp_x = nat.xs[(nat.xs >= x0) & (nat.xs <= x1)]
    exp_y = nat.ys[(nat.ys >= y0) & (nat.ys <= y1)]
    assert cov["domain"]["axes"]["x"]["values"] == pytest.approx(sorted(exp_x) if nat.xs[1] > nat.xs[0] else list(exp_x))
    assert sorted(cov["domain"]["axes"]["y"]["values"]) == pytest.approx(sorted(exp_y))
    field = g.field(src).sel({g.x: exp_x, g.y: exp_y})
    got = grid_cells(cov, g.var)
    for (x, y), v in got.items():
        assert v == pytest.approx(float(field.sel({g.x: x, g.y: y}, method="nearest")))
    assert len(got) == int(np.isfinite(field.values).sum())


def test_area_is_the_cells_whose_centres_are_inside(grids_client, grid):
    g, src, nat = grid
    lon, lat = interior_points(nat, 1, seed=5)[0]
    x0, y0, x1, y1 = _box_around(lon, lat, 4 * nat.cell_deg)
    d = nat.cell_deg
    poly = shapely.Polygon([(x0, y0), (x1, y0 + d), (x1, y1), (x0 + 2 * d, y1)])
    cov = covjson(grids_client, f"/collections/{g.cid}/area", coords=poly.wkt, **_params(g))
    clon, clat = nat.centres_lonlat()
    inside = shapely.intersects_xy(poly, clon, clat)
    field = g.field(src).transpose(g.y, g.x).values
    expected = {(float(nat.xs[i]), float(nat.ys[j])) for j, i in zip(*np.nonzero(inside & np.isfinite(field)))}
    got = grid_cells(cov, g.var)
    assert set(got) == expected and expected
    for (x, y), v in got.items():
        j, i = nat.index(x, y)
        assert v == pytest.approx(float(field[j, i]))


def test_radius_is_the_cells_within_the_geodesic_distance(grids_client, grid):
    g, src, nat = grid
    lon, lat = interior_points(nat, 1, seed=9)[0]
    within_km = 3 * nat.cell_deg * 111.0
    cov = covjson(grids_client, f"/collections/{g.cid}/radius", coords=f"POINT({lon} {lat})", within=str(within_km),
                  **{"within-units": "km"}, **_params(g))
    clon, clat = nat.centres_lonlat()
    _, _, dist = GEOD.inv(np.full(clon.shape, lon), np.full(clat.shape, lat), clon, clat)
    field = g.field(src).transpose(g.y, g.x).values
    inside = (dist <= within_km * 1000) & np.isfinite(field)
    expected = {(float(nat.xs[i]), float(nat.ys[j])) for j, i in zip(*np.nonzero(inside))}
    assert set(grid_cells(cov, g.var)) == expected and expected


def test_trajectory_runs_from_cell_to_cell(grids_client, grid):
    g, src, nat = grid
    nx, ny = len(nat.xs), len(nat.ys)
    a, b = (ny // 3, nx // 3), (ny // 3 + 3, nx // 3 + 4)
    (lon0, lat0), (lon1, lat1) = nat.lonlat_of(*a), nat.lonlat_of(*b)
    doc = covjson(grids_client, f"/collections/{g.cid}/trajectory", coords=f"LINESTRING({lon0} {lat0},{lon1} {lat1})",
                  **_params(g))
    composite = doc["domain"]["axes"]["composite"]
    ix, iy = composite["coordinates"].index("x"), composite["coordinates"].index("y")
    # answered in CRS84 (no crs asked): back to the native grid to compare with the source
    cells = [tuple(float(v) for v in nat.to_native(t[ix], t[iy])) for t in composite["values"]]
    assert cells[0] == pytest.approx((nat.xs[a[1]], nat.ys[a[0]]))
    assert cells[-1] == pytest.approx((nat.xs[b[1]], nat.ys[b[0]]))
    field = g.field(src).transpose(g.y, g.x).values
    got = doc["ranges"][g.var]["values"]
    for (x, y), v in zip(cells, got):
        j, i = nat.index(x, y)
        assert (v is None and not np.isfinite(field[j, i])) or v == pytest.approx(float(field[j, i]))
    # every answering cell lies within one cell of the path (pyproj: native distance to the native segment)
    (ax_, ay_), (bx_, by_) = (nat.xs[a[1]], nat.ys[a[0]]), (nat.xs[b[1]], nat.ys[b[0]])
    seg = shapely.LineString([(ax_, ay_), (bx_, by_)])
    cell = max(abs(nat.xs[1] - nat.xs[0]), abs(nat.ys[1] - nat.ys[0]))
    assert all(seg.distance(shapely.Point(x, y)) <= 1.5 * cell for x, y in cells)


def test_corridor_is_the_cells_near_the_path(grids_client, grid):
    g, src, nat = grid
    nx, ny = len(nat.xs), len(nat.ys)
    (lon0, lat0), (lon1, lat1) = nat.lonlat_of(ny // 3, nx // 3), nat.lonlat_of(ny // 2, nx // 2)
    width = 3 * nat.cell_deg * 111.0
    cov = covjson(grids_client, f"/collections/{g.cid}/corridor", coords=f"LINESTRING({lon0} {lat0},{lon1} {lat1})",
                  **{"corridor-width": str(width), "width-units": "km", "corridor-height": "0",
                     "height-units": _height_units(grids_client, g.cid)}, **_params(g))
    # geodesic distance of every centre to the path: the WKT line, straight in lon/lat, densely sampled
    f = np.linspace(0.0, 1.0, 400)
    path = np.column_stack([lon0 + f * (lon1 - lon0), lat0 + f * (lat1 - lat0)])
    clon, clat = nat.centres_lonlat()
    field = g.field(src).transpose(g.y, g.x).values
    d = np.full(clon.shape, np.inf)
    for plon, plat in path:
        d = np.minimum(d, GEOD.inv(np.full(clon.shape, plon), np.full(clat.shape, plat), clon, clat)[2])
    half = width * 1000 / 2
    got = set(grid_cells(cov, g.var))
    surely = {(float(nat.xs[i]), float(nat.ys[j])) for j, i in zip(*np.nonzero((d < half * 0.99) & np.isfinite(field)))}
    maybe = {(float(nat.xs[i]), float(nat.ys[j])) for j, i in zip(*np.nonzero(d <= half * 1.01))}
    assert surely and surely <= got <= maybe


def test_named_location_runs_a_position_query(grids_client):
    g = GRIDS["rp"]
    src = g.source()
    nat = Native(g, src)
    cov = covjson(grids_client, "/collections/rp/locations/paris", **{"parameter-name": g.var})
    assert cov["ranges"][g.var]["values"][0] == pytest.approx(float(nat.nearest(2.35, 48.86)))


def test_geojson_is_lonlat_on_a_rotated_grid(grids_client, cases):
    """RFC 7946: GeoJSON positions are lon/lat, whatever the grid's CRS (unless crs asks otherwise)."""
    src = xr.open_dataset(cases / "c01_rotated_pole.nc")
    r = grids_client.get("/collections/c01/radius", params={"coords": "POINT(13.4 52.5)", "within": "150", "within-units": "km",
                                                             "datetime": "2000-01-01T00:00:00Z", "f": "GeoJSON"})
    assert r.status_code == 200 and r.headers["content-crs"] == f"<{CRS84_URI}>"
    feats = r.json()["features"]
    assert feats
    for f in feats:
        v = f["properties"]["tas"]
        j, i = int(v) // 1000, int(v) % 1000
        lon, lat = f["geometry"]["coordinates"]
        assert (lon, lat) == pytest.approx((float(src.lon[j, i]), float(src.lat[j, i])), abs=1e-6)
        assert GEOD.inv(13.4, 52.5, lon, lat)[2] <= 150_000
