"""subset / bbox / datetime / properties on every bundled grid, checked against xarray reading the file itself."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from .conftest import GRIDS, inside, netcdf

# (collection, subset, {dim: (lo, hi) or value} for the expected window, time slice)
WINDOWS = [
    ("coads", 'COADSX(-10:20),COADSY(40:60),TIME("2000-03-01T00:00:00Z":"2000-06-01T00:00:00Z")',
     {"COADSX": (-10, 20), "COADSY": (40, 60)}, ("2000-03-01", "2000-06-01")),
    ("eraint", "longitude(-10:20),latitude(40:60),level(850),month(7)",
     {"longitude": (-10, 20), "latitude": (40, 60), "level": (850, 850), "month": (7, 7)}, None),
    ("mur-sst", 'lon(-27.8:-27.5),lat(40.2:40.4),time("2005-12-05":"2005-12-10")',
     {"lon": (-27.8, -27.5), "lat": (40.2, 40.4)}, ("2005-12-05", "2005-12-10")),  # an end day covers the whole day (Coverages /req/subsetting-temporal/subset G)
    ("cmip5-pr", 'lon(-120:-100),lat(50:60),time("2050-01-01":"2060-12-31")',
     {"lon": (-120, -100), "lat": (50, 60)}, ("2050-01-01", "2060-12-31")),
    ("basin-mask", "Y(40:60),Z(0:100)", {"Y": (40, 60), "Z": (0, 100)}, None),
    ("landsat-rgb", "x(150000:200000),y(2700000:2750000)", {"x": (150000, 200000), "y": (2700000, 2750000)}, None),
    ("cogeo", "x(14322000:14322300),y(4532600:4532900)", {"x": (14322000, 14322300), "y": (4532600, 4532900)}, None),
    ("shade", "x(-11855000:-11852000),y(4806000:4809000)", {"x": (-11855000, -11852000), "y": (4806000, 4809000)}, None),
]


def expected_window(src, window: dict, times):
    out = src
    for dim, (lo, hi) in window.items():
        out = out.isel({dim: inside(src[dim].values.astype("float64"), lo, hi)})
    if times:
        tdim = next(d for d in out.dims if d in ("TIME", "time"))
        out = out.sel({tdim: slice(*times)})
    return out


def assert_same(out, exp, names=None):
    names = names or list(exp.data_vars)
    assert sorted(out.data_vars) == sorted(names)
    for name in names:
        got = out[name].transpose(*exp[name].dims)
        assert got.shape == exp[name].shape, name
        np.testing.assert_allclose(got.values.astype("float64"), exp[name].values.astype("float64"),
                                   rtol=1e-6, equal_nan=True, err_msg=name)
        for dim in exp[name].dims:
            a, b = got[dim].values, exp[name][dim].values
            if a.dtype.kind in "fiu":
                np.testing.assert_allclose(a.astype("float64"), b.astype("float64"), rtol=1e-9)
            else:
                assert list(a) == list(b), dim


@pytest.mark.parametrize("cid, subset, window, times", WINDOWS, ids=[w[0] for w in WINDOWS])
def test_subset_equals_xarray_window(client, sources, cid, subset, window, times):
    r = client.get(f"/collections/{cid}/coverage", params={"subset": subset, "f": "netcdf"})
    assert r.status_code == 200, r.text
    assert_same(netcdf(r.content), expected_window(sources(cid), window, times))


def test_aliases_select_the_same_cells(client):
    native = client.get("/collections/coads/coverage", params={
        "subset": 'COADSX(-10:20),COADSY(40:60),TIME("2000-03-01T00:00:00Z":"2000-06-01T00:00:00Z")', "f": "covjson"}).json()
    alias = client.get("/collections/coads/coverage", params=[
        ("subset", "lon(-10:20)"), ("subset", "LAT(40:60)"), ("subset", "time(2000-03-01T00:00:00Z:2000-06-01T00:00:00Z)"),
        ("f", "covjson")]).json()
    assert native["domain"] == alias["domain"]
    assert native["ranges"]["SST"]["values"] == alias["ranges"]["SST"]["values"]


def test_subset_wraps_longitudes_on_a_0_360_grid(client, sources):
    src = sources("basin-mask")
    r = client.get("/collections/basin-mask/coverage", params={"subset": "X(-10:20),Y(40:60),Z(0)", "f": "netcdf"})
    out = netcdf(r.content)
    wrapped = np.where(src.X.values > 180, src.X.values - 360, src.X.values)
    ix = inside(wrapped, -10, 20)
    ix = ix[np.argsort(wrapped[ix])]
    exp = src.isel(X=ix, Y=inside(src.Y.values, 40, 60), Z=[0])
    np.testing.assert_array_equal(out.X.values, np.sort(wrapped[ix]))
    np.testing.assert_array_equal(out.basin.transpose("Z", "Y", "X").values, exp.basin.values)


def test_single_values_slice_to_one_cell(client, sources):
    src = sources("coads")
    out = netcdf(client.get("/collections/coads/coverage", params={
        "subset": 'COADSY(41),TIME("2000-03-17T02:58:12Z")', "properties": "SST", "f": "netcdf"}).content)
    assert out.sizes["COADSY"] == 1 and out.sizes["TIME"] == 1 and out.sizes["COADSX"] == 180
    exp = src.SST.sel(COADSY=41.0, TIME="2000-03-17T02:58:12")
    np.testing.assert_allclose(out.SST.squeeze().values, exp.values.squeeze(), equal_nan=True)


def test_open_ends(client, sources):
    src = sources("cmip5-pr")
    out = netcdf(client.get("/collections/cmip5-pr/coverage", params={
        "subset": 'lat(80:*),time(*:"2010-12-31")', "f": "netcdf"}).content)
    exp = src.isel(lat=inside(src.lat.values, 80, np.inf)).sel(time=slice(None, "2010-12-31"))
    assert_same(out, exp)


# ------------------------------------------------------------------ bbox

@pytest.mark.parametrize("cid, bbox", [("coads", (-10, 40, 20, 60)), ("cmip5-pr", (-120, 50, -100, 60)),
                                       ("eraint", (100, -10, 130, 10)), ("mur-sst", (-27.8, 40.2, -27.5, 40.4))])
def test_bbox_crs84_equals_xarray(client, sources, cid, bbox):
    g, src = GRIDS[cid], sources(cid)
    out = netcdf(client.get(f"/collections/{cid}/coverage", params={"bbox": ",".join(map(str, bbox)), "f": "netcdf"}).content)
    exp = src.isel({g.x: inside(src[g.x].values, bbox[0], bbox[2]), g.y: inside(src[g.y].values, bbox[1], bbox[3])})
    assert_same(out, exp)


def test_bbox_on_0_360_grid_equals_wrapped_subset(client):
    a = client.get("/collections/basin-mask/coverage", params={"bbox": "-10,40,20,60", "f": "covjson"}).json()
    b = client.get("/collections/basin-mask/coverage", params={"subset": "X(-10:20),Y(40:60)", "f": "covjson"}).json()
    assert a["domain"]["axes"]["x"] == b["domain"]["axes"]["x"]
    assert a["ranges"] == b["ranges"]


def test_bbox_in_native_and_in_lonlat_on_the_utm_scene(client, sources):
    src = sources("landsat-rgb")
    box = (150000, 2700000, 200000, 2750000)
    out = netcdf(client.get("/collections/landsat-rgb/coverage", params={
        "bbox": ",".join(map(str, box)), "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/32618", "f": "netcdf"}).content)
    assert_same(out, src.isel(x=inside(src.x.values, box[0], box[2]), y=inside(src.y.values, box[1], box[3])))
    lonlat = (-78.5, 24.0, -78.0, 24.5)
    out = netcdf(client.get("/collections/landsat-rgb/coverage", params={
        "bbox": ",".join(map(str, lonlat)), "f": "netcdf"}).content)
    minx, miny, maxx, maxy = Transformer.from_crs("OGC:CRS84", "EPSG:32618", always_xy=True).transform_bounds(*lonlat, densify_pts=21)
    assert_same(out, src.isel(x=inside(src.x.values, minx, maxx), y=inside(src.y.values, miny, maxy)))


def test_bbox_and_a_spatial_subset_are_exclusive(client, sources):
    """Coverages /req/subsetting-spatial/subset-bbox-exclusivity (was: intersected); bbox + a time subset still work."""
    r = client.get("/collections/coads/coverage", params={"bbox": "-10,40,20,60", "subset": "COADSX(0:40)"})
    assert r.status_code == 400 and r.json()["parameter"] == "subset"
    src = sources("coads")
    out = netcdf(client.get("/collections/coads/coverage", params={
        "bbox": "-10,40,20,60", "subset": 'TIME("2000-03-01":"2000-05-01")', "properties": "AIRT", "f": "netcdf"}).content)
    exp = src[["AIRT"]].sel(TIME=slice("2000-03-01", "2000-05-01")).isel(
        COADSX=inside(src.COADSX.values, -10, 20), COADSY=inside(src.COADSY.values, 40, 60))
    assert_same(out, exp)


# ------------------------------------------------------------------ datetime

@pytest.mark.parametrize("cid, dt, sl", [
    ("coads", "2000-03-01T00:00:00Z/2000-06-01T00:00:00Z", slice("2000-03-01", "2000-06-01")),
    ("cmip5-pr", "2050-07-01T06:00:00Z", slice("2050-07-01", "2050-07-01T23:00")),
    ("mur-sst", "../2005-12-03T12:00:00Z", slice(None, "2005-12-03T12:00")),
])
def test_datetime_equals_xarray(client, sources, cid, dt, sl):
    g, src = GRIDS[cid], sources(cid)
    out = netcdf(client.get(f"/collections/{cid}/coverage", params={"datetime": dt, "f": "netcdf"}).content)
    assert_same(out, src.sel({g.t: sl}))


def test_datetime_and_time_subset_are_exclusive(client):
    """Coverages /req/subsetting-temporal/subset-datetime-exclusivity (was: intersected)."""
    r = client.get("/collections/coads/coverage", params={
        "datetime": "2000-01-01/2000-06-30", "subset": 'TIME("2000-04-01":*)', "properties": "SST", "f": "covjson"})
    assert r.status_code == 400 and r.json()["parameter"] == "subset"


# ------------------------------------------------------------------ properties

@pytest.mark.parametrize("cid, props", [("coads", ["SST", "UWND"]), ("eraint", ["u"]), ("landsat-rgb", ["band_3", "band_1"]),
                                        ("mur-sst", ["analysed_sst"])])
def test_properties_select_fields(client, sources, cid, props):
    g, src = GRIDS[cid], sources(cid)
    sub = f"{g.x}({float(src[g.x].min())}:{float(src[g.x].values[min(10, src[g.x].size - 1)])})"
    out = netcdf(client.get(f"/collections/{cid}/coverage", params={"properties": ",".join(props), "subset": sub,
                                                                    "f": "netcdf"}).content)
    xs = src[g.x].values
    exp = src[props].isel({g.x: inside(xs, float(xs.min()), float(xs[min(10, xs.size - 1)]))})
    assert_same(out, exp, props)
