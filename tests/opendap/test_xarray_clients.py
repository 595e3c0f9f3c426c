"""xarray through OPeNDAP (netCDF4 engine = netCDF-C, DAP2 and DAP4; pydap engine, DAP2 and DAP4) on EVERY
bundled gridded collection: decoded values equal xarray's decoding of the source file itself."""

from __future__ import annotations

import warnings

import pytest
import xarray as xr

from .conftest import DAP4_FLOAT32_FILL, NETCDF_C_DAP4_BUG, SOURCES, same_values, spatial_window

CLIENTS = {
    "netcdf4-dap2": ("netcdf4", "http"),
    "netcdf4-dap4": ("netcdf4", "dap4"),
    "pydap-dap2": ("pydap", "dap2"),
    "pydap-dap4": ("pydap", "dap4"),
}


def open_remote(base: str, cid: str, client: str) -> xr.Dataset:
    engine, scheme = CLIENTS[client]
    url = f"{base}/collections/{cid}/opendap"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if engine == "pydap":  # `dap4://` would make pydap try https first; say the protocol instead
            from pydap.client import open_url

            return xr.open_dataset(xr.backends.PydapDataStore(open_url(url, protocol=scheme)))
        if scheme == "dap4":
            url = url.replace("http://", "dap4://")  # netCDF-C's DAP4 (or `#dap4` after the URL)
        return xr.open_dataset(url, engine=engine)


def _source_window(src: xr.DataArray, remote: xr.DataArray, window: dict) -> dict:
    """The remote window applied to the source by position from the last dimension (GRIB and GeoTIFF sources
    lack the length-1 axes the server adds)."""
    return {d: window[remote.dims[remote.ndim - src.ndim + i]] for i, d in enumerate(src.dims)}


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("cid", sorted(SOURCES))
def test_values_equal_source(dap_base, cid, client):
    if client == "netcdf4-dap4" and cid in DAP4_FLOAT32_FILL:
        pytest.xfail(NETCDF_C_DAP4_BUG)
    src = SOURCES[cid]()
    remote = open_remote(dap_base, cid, client)
    assert set(src.data_vars) <= set(remote.variables), (sorted(src.data_vars), sorted(remote.variables))
    for name, var in src.data_vars.items():
        rvar = remote[name]
        window = spatial_window(rvar)
        got = rvar.isel(window)
        want = var.isel(_source_window(var, rvar, window))
        same_values(got.values, want.values)
        assert got.attrs.get("units") == var.attrs.get("units"), name
        if var.encoding.get("scale_factor", 1) != 1:  # packed: left packed on the wire, decoded the same way
            assert rvar.encoding["dtype"].kind in "iu"
            assert float(rvar.encoding["scale_factor"]) == float(var.encoding["scale_factor"])
    for name in set(src.coords) & set(remote.variables):
        if src[name].ndim == 1 and src[name].size < 100_000:
            same_values(remote[name].values, src[name].values)
