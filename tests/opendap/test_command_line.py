"""The netCDF-C command-line world against the server: ncdump (DAP2 and DAP4), CDO and NCO, values compared
with xarray on the source file."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
import requests
import xarray as xr

from tests.conftest import DATASETS

from .conftest import DAP4_FLOAT32_FILL, NETCDF_C_DAP4_BUG, SOURCES, need

# every bundled gridded collection: its header must read, with each data variable and its units
HEADER_IDS = sorted(SOURCES)


def run(*cmd, check=True, timeout=300) -> subprocess.CompletedProcess:
    p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check:
        assert p.returncode == 0, f"{cmd}: {p.stderr[-2000:]}"
    return p


def numbers(cdl: str, name: str) -> np.ndarray:
    """The values of `name` in ncdump's data section."""
    body = cdl.split("data:", 1)[1]
    m = re.search(rf"^ {re.escape(name)} =(.*?);", body, re.S | re.M)
    assert m, cdl[-2000:]
    return np.array([float(x) if x.strip() != "_" else np.nan for x in m.group(1).replace("\n", " ").split(",")])


@pytest.mark.parametrize("cid", HEADER_IDS)
def test_ncdump_header_every_collection(dap_base, cid):
    ncdump = need("ncdump")
    src = SOURCES[cid]()
    out = run(ncdump, "-h", f"{dap_base}/collections/{cid}/opendap").stdout
    for name, var in src.data_vars.items():
        assert re.search(rf"\s{re.escape(name)}(\(| ;)", out), (name, out[:3000])
        if "units" in var.attrs:
            # ncdump writes `data :units` for a name that is a CDL keyword
            assert re.search(rf'{re.escape(name)} ?:units = "{re.escape(var.attrs["units"])}"', out), out


@pytest.mark.parametrize("cid,var", [("coads", "SST"), ("cmip5-pr", "pr"), ("rotated-pole", "air_pressure_at_sea_level"),
                                     ("hadcm3-a1b", "air_temperature"), ("orca2", "votemper")])
@pytest.mark.parametrize("proto", ["http", "dap4"])
def test_ncdump_hyperslab(dap_base, cid, var, proto):
    """`ncdump -v var 'URL?var[a:s:b]...'`: the strided hyperslab equals the source's (NaN where masked)."""
    ncdump = need("ncdump")
    if proto == "dap4" and cid in DAP4_FLOAT32_FILL:
        pytest.xfail(NETCDF_C_DAP4_BUG)
    src = SOURCES[cid]()[var]
    served = requests.get(f"{dap_base}/collections/{cid}/opendap.dds?{var}").text.count("[")  # its dimensions
    slices = [slice(0, 1)] * (served - 2) + [slice(2, 12, 3), slice(1, 14, 4)]
    ce = var + "".join(f"[{s.start}:{s.step or 1}:{s.stop - 1}]" for s in slices)
    if proto == "http":
        url = f"{dap_base}/collections/{cid}/opendap?{ce}"
    else:  # netCDF-C's DAP4 takes the constraint as dap4.ce
        url = f"{dap_base.replace('http://', 'dap4://')}/collections/{cid}/opendap?dap4.ce=/{ce}"
    got = numbers(run(ncdump, "-v", var, url).stdout, var)
    want = src.isel(dict(zip(src.dims, slices[served - src.ndim:]))).values.ravel().astype("float64")
    np.testing.assert_allclose(got, want, rtol=2e-6, equal_nan=True)  # ncdump prints 7 significant digits


def test_ncdump_packed_values_stay_packed(dap_base):
    """MUR SST: the shorts on the wire are the source's shorts, with scale_factor/add_offset/_FillValue."""
    ncdump = need("ncdump")
    raw = xr.open_zarr(DATASETS / "analysed_sst.zarr", consolidated=False, mask_and_scale=False)["analysed_sst"]
    out = run(ncdump, "-v", "analysed_sst", f"{dap_base}/collections/mur-sst/opendap?analysed_sst[3:1:3][10:2:20][0:5:50]").stdout
    assert "short analysed_sst(time, lat, lon)" in out
    assert "analysed_sst:scale_factor = 0.001" in out and "analysed_sst:add_offset = 298.15" in out
    assert "analysed_sst:_FillValue = -32768s" in out
    want = raw[3, 10:21:2, 0:51:5].values.ravel()
    got = numbers(out, "analysed_sst")
    np.testing.assert_array_equal(np.where(np.isnan(got), -32768, got), want)


def test_mur_comment_with_quotes_keeps_later_attributes(dap_base):
    """The MUR `comment` has double quotes: escaped in the DAS, so units/scale_factor after it survive."""
    ncdump = need("ncdump")
    out = run(ncdump, "-h", f"{dap_base}/collections/mur-sst/opendap").stdout
    assert 'analysed_sst:comment = "\\"Final\\" version' in out
    assert 'analysed_sst:units = "kelvin"' in out


def test_cdo_sinfo_calendar_and_grid(dap_base):
    cdo = need("cdo")
    out = run(cdo, "sinfo", f"{dap_base}/collections/cmip5-pr/opendap").stdout
    assert "Calendar = 365_days" in out or "365_day" in out, out
    assert "lonlat" in out and "points=5250 (105x50)" in out, out
    out = run(cdo, "sinfo", f"{dap_base}/collections/hadcm3-a1b/opendap").stdout
    assert "360_day" in out and "240 steps" in out, out


def test_cdo_sellonlatbox_equals_xarray(dap_base, tmp_path):
    cdo = need("cdo")
    target = tmp_path / "box.nc"
    run(cdo, "-s", "-sellonlatbox,-40,-20,30,50", f"{dap_base}/collections/coads/opendap", str(target))
    got = xr.open_dataset(target)
    src = SOURCES["coads"]()
    want = src.sel(COADSX=slice(-40, -20), COADSY=slice(30, 50))
    np.testing.assert_array_equal(got.COADSX.values, want.COADSX.values)
    np.testing.assert_array_equal(got.COADSY.values, want.COADSY.values)
    np.testing.assert_array_equal(got.SST.values, want.SST.values)


def test_ncks_hyperslab_by_coordinate_and_index(dap_base, tmp_path):
    ncks = need("ncks")
    target = tmp_path / "cut.nc"
    run(ncks, "-O", "-v", "z", "-d", "latitude,40.,60.", "-d", "longitude,0,30,2", "-d", "level,1",
        f"{dap_base}/collections/eraint/opendap", str(target))
    got = xr.open_dataset(target)
    src = SOURCES["eraint"]()["z"].sel(latitude=slice(60, 40)).isel(longitude=slice(0, 31, 2), level=[1])
    np.testing.assert_array_equal(got.z.values, src.values)
    assert got.z.encoding["dtype"] == np.int16  # still packed, as in the source
