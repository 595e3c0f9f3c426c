"""scale-factor / scale-size / scale-axes on every bundled grid, against xarray coarsen or a plain numpy reference."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from .conftest import assert_error, netcdf


def get_nc(client, cid, **params):
    r = client.get(f"/collections/{cid}/coverage", params={**params, "f": "netcdf"})
    assert r.status_code == 200, r.text
    return netcdf(r.content)


def centre_indices(n: int, m: int, block: int | None = None) -> np.ndarray:
    """Reference: the source cell nearest each output cell's centre (lower middle for even blocks)."""
    if block:
        starts = np.arange(m) * block
        ends = np.minimum(starts + block, n)
    else:
        edges = [int(np.floor(i * n / m)) for i in range(m + 1)]
        starts, ends = np.array(edges[:-1]), np.array(edges[1:])
    return np.minimum(starts + (ends - starts - 1) // 2, n - 1)


def block_mean_2d(a: np.ndarray, m_y: int, m_x: int) -> np.ndarray:
    """Reference: NaN-mean of blocks [floor(i*n/m), floor((i+1)*n/m)) over the last two axes."""
    ny, nx = a.shape[-2:]
    ey = [int(np.floor(i * ny / m_y)) for i in range(m_y + 1)]
    ex = [int(np.floor(j * nx / m_x)) for j in range(m_x + 1)]
    out = np.empty(a.shape[:-2] + (m_y, m_x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks
        for i in range(m_y):
            for j in range(m_x):
                out[..., i, j] = np.nanmean(a[..., ey[i]:ey[i + 1], ex[j]:ex[j + 1]], axis=(-2, -1))
    return out


def close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64"), rtol=1e-5, equal_nan=True)


@pytest.mark.parametrize("factor", [2, 7])
def test_coads_block_mean_equals_coarsen(client, sources, factor):
    src = sources("coads")
    out = get_nc(client, "coads", **{"scale-factor": factor})
    exp = src.coarsen(COADSX=factor, COADSY=factor, boundary="pad").mean()
    for v in src.data_vars:
        close(out[v].transpose(*exp[v].dims).values, exp[v].values)
    # the new grid is regular: block centres, continuing past a partial last block
    close(out.COADSX.values, -179 + (np.arange(out.sizes["COADSX"]) * factor + (factor - 1) / 2) * 2)
    assert out.SST.attrs["units"] == src.SST.attrs["units"]


def test_uneven_scale_size_is_a_block_mean(client, sources):
    src = sources("eraint").sel(month=[1], level=[500])
    out = get_nc(client, "eraint", **{"scale-size": "latitude(100),longitude(200)", "subset": "month(1),level(500)"})
    for v in ("u", "z"):
        close(out[v].transpose(*src[v].dims).values, block_mean_2d(src[v].values, 100, 200))
    # regular output grid over the source extent (cell edges -180.375 .. 179.625)
    close(out.longitude.values, -180.375 + (np.arange(200) + 0.5) * 360 / 200)


def test_mur_sst_continuous_fields_averaged_flags_picked(client, sources):
    src = sources("mur-sst").isel(time=slice(0, 2))
    out = get_nc(client, "mur-sst", **{"scale-factor": 2, "subset": 'time(*:"2005-12-02T09:00:00Z")'})
    exp = src[["analysed_sst", "analysis_error"]].coarsen(lat=2, lon=2, boundary="pad").mean()
    for v in ("analysed_sst", "analysis_error"):
        close(out[v].transpose(*exp[v].dims).values, exp[v].values)
    close(out["mask"].transpose(*src["mask"].dims).values, src["mask"].isel(lat=slice(0, None, 2), lon=slice(0, None, 2)).values)


def test_time_axis_block_mean_with_cftime_labels(client, sources):
    src = sources("cmip5-pr")
    out = get_nc(client, "cmip5-pr", **{"scale-axes": "time(10)"})
    exp = src.pr.drop_vars("time").coarsen(time=10, boundary="pad").mean()
    close(out.pr.transpose(*exp.dims).values, exp.values)
    idx = centre_indices(95, 10, 10)
    assert [t.isoformat() for t in out.time.values] == [t.isoformat() for t in src.time.values[idx]]
    assert out.time.encoding["calendar"] in ("noleap", "365_day")


def test_categorical_float_codes_are_picked_not_averaged(client, sources):
    src = sources("basin-mask").isel(Z=[0])
    out = get_nc(client, "basin-mask", **{"scale-factor": 2, "subset": "Z(0)"})
    close(out.basin.values, src.basin.isel(X=slice(0, None, 2), Y=slice(0, None, 2)).values)
    codes = np.unique(out.basin.values[np.isfinite(out.basin.values)])
    assert set(codes) <= set(np.unique(src.basin.values[np.isfinite(src.basin.values)]))


@pytest.mark.parametrize("cid, params, block", [
    ("landsat-rgb", {"scale-factor": 3}, 3),
    ("shade", {"scale-factor": 4}, 4),
    ("cogeo", {"scale-size": "x(100),y(90)"}, None),
])
def test_integer_imagery_takes_the_centre_cell(client, sources, cid, params, block):
    src = sources(cid)
    out = get_nc(client, cid, **params)
    ny, nx = out.sizes["y"], out.sizes["x"]
    iy = centre_indices(src.sizes["y"], ny, block)
    ix = centre_indices(src.sizes["x"], nx, block)
    for v in src.data_vars:
        close(out[v].values, src[v].values[np.ix_(iy, ix)])


def test_upsampling_repeats_cells(client, sources):
    src = sources("coads")
    out = get_nc(client, "coads", **{"scale-size": "COADSX(360)", "properties": "SST", "datetime": "2000-01-16T06:00:00Z"})
    close(out.SST.values[0], np.repeat(src.SST.values[0], 2, axis=1))
    close(out.COADSX.values, np.arange(-179.5, 180, 1.0))


@pytest.mark.parametrize("params, parameter, word", [
    ({"scale-factor": "0"}, "scale-factor", "greater than 0"),
    ({"scale-factor": "-2"}, "scale-factor", "greater than 0"),
    ({"scale-factor": "abc"}, "scale-factor", "not a number"),
    ({"scale-size": "COADSX(0)"}, "scale-size", "greater than 0"),
    ({"scale-size": "COADSX(2.5)"}, "scale-size", "whole number"),
    ({"scale-size": "depth(10)"}, "scale-size", "COADSX, COADSY, TIME"),
    ({"scale-axes": "TIME(0)"}, "scale-axes", "greater than 0"),
])
def test_bad_scaling_is_400(client, params, parameter, word):
    assert_error(client.get("/collections/coads/coverage", params=params), 400, parameter, word)


def test_scale_beyond_the_size_limit_is_413(client):
    r = client.get("/collections/coads/coverage", params={"scale-size": "COADSX(100000),COADSY(100000)"})
    assert_error(r, 413, None, "limit")


def test_gdal_style_scalesize_alias(client, sources):
    out = get_nc(client, "coads", scaleSize="COADSX(90),COADSY(45)", properties="AIRT")
    exp = sources("coads").AIRT.coarsen(COADSX=2, COADSY=2).mean()
    close(out.AIRT.transpose(*exp.dims).values, exp.values)
