"""Attributes and types as the source has them, read back by netCDF-C (ncdump, xarray's netCDF4 engine) and pydap.

- every bundled netCDF collection: netCDF-C over DAP2 sees the source's attributes, no more (xarray's encoder
  invents `_FillValue = NaN` for float variables without one and respells time units; neither is published);
- unsigned variables and attributes: netCDF-C reads DAP2 Byte/UInt16/UInt32 as signed types, so unsigned
  variables carry `_Unsigned = "true"` and unsigned attributes go out in a wider signed type;
- a DMR stays well-formed XML whatever the attribute text (control characters), keeps blank strings, and
  infinities are spelled so pydap's DAS parser reads them.
"""

from __future__ import annotations

import glob
import subprocess
import warnings

import netCDF4
import numpy as np
import pytest
import requests
import xarray as xr

from tests.conftest import DATASETS

from cubeserver.opendap.text import dap2_name

from .conftest import need, server_for

NETCDF_SOURCES = {
    "coads": "coads_sst.nc", "eraint": "eraint_uvz.nc", "cmip5-pr": "cmip5_rcp85_pcp_pctl25.nc",
    "basin-mask": "basin_mask.nc", "rotated-pole": "grids/rotated_pole.nc", "hybrid-height": "grids/hybrid_height.nc",
    "hadcm3-a1b": "grids/A1B_north_america.nc", "toa-stereo": "grids/toa_brightness_stereographic.nc",
    "orca2": "grids/orca2_votemper.nc", "nemo-sst": "grids/nemo/*.nc", "cmip6-ta": "cmip6_awi_ta/*.nc",
}
# a _FillValue of NaN on an integer variable (eraint's packed shorts) has no meaning and is not published;
# nemo-sst's registry makes time_centered the time axis, time_counter (axis = "T" in the files) an auxiliary
LOST_OK = {("eraint", "_FillValue"), ("nemo-sst", "axis")}


def _compare(want: dict, got: dict, where: str, may_lose: set) -> list[str]:
    problems = []
    for key, value in want.items():
        shown = dap2_name(key)  # names outside the DAP2 characters stay %XX-escaped in netCDF-C (README)
        if shown not in got:
            if key not in may_lose:
                problems.append(f"{where}: lost {key}={value!r}")
        elif not _same(value, got[shown]):
            problems.append(f"{where}: {key} {value!r} -> {got[shown]!r}")
    shown_want = {dap2_name(k) for k in want}
    for key, value in got.items():
        if key not in shown_want:
            problems.append(f"{where}: added {key}={value!r}")
    return problems


def _attrs(var) -> dict:
    return {k: var.getncattr(k) for k in var.ncattrs()}


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    a, b = np.atleast_1d(np.asarray(a, dtype="f8")), np.atleast_1d(np.asarray(b, dtype="f8"))
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.mark.parametrize("cid", sorted(NETCDF_SOURCES))
def test_netcdf_c_sees_the_source_attributes(dap_base, cid):
    """No invented `_FillValue = NaN` (coordinates included), time units spelled as in the file, every source
    attribute with its value (names with a space are %20-escaped over DAP2: a documented netCDF-C limit)."""
    path = sorted(glob.glob(str(DATASETS / NETCDF_SOURCES[cid])))[0]
    with netCDF4.Dataset(path) as src, netCDF4.Dataset(f"{dap_base}/collections/{cid}/opendap") as remote:
        problems = []
        for name, var in src.variables.items():
            if name not in remote.variables:
                continue  # a variable the collection does not serve (e.g. a bounds variable dropped by the registry)
            got = _attrs(remote.variables[name])
            if name.endswith("_bnds") or name.endswith("_bounds"):
                got = {k: v for k, v in got.items() if k not in ("units", "calendar")}  # xarray's, as CF allows
            got.pop("_Unsigned", None)
            problems += _compare(_attrs(var), got, name, {k for c, k in LOST_OK if c == cid})
        remote_globals = _attrs(remote)
        remote_globals.pop("coordinates", None)  # xarray's list of auxiliary coordinates no variable names
        problems += _compare(_attrs(src), remote_globals, "global", set())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("cid", ["gem-global", "hrdps"])
def test_grib_missing_values_are_declared(dap_base, cid):
    """GRIB marks missing values with its bitmap and ecCodes hands them over as NaN: the data variables declare
    `_FillValue = NaN`, so netCDF-C (and CDO on the URL) treat them as missing; the coordinates declare none."""
    with netCDF4.Dataset(f"{dap_base}/collections/{cid}/opendap") as remote:
        data = [v for v in remote.variables.values() if v.dimensions and len(v.dimensions) >= 2
                and v.name not in remote.dimensions]
        assert data
        for var in data:
            assert np.isnan(_attrs(var)["_FillValue"]), var.name
        for dim in remote.dimensions:
            if dim in remote.variables:
                assert "_FillValue" not in _attrs(remote.variables[dim]), dim


LABELS = ["plain", 'q"x\\y', "long " * 30]
DAP4_NS = "{http://xml.opendap.org/ns/DAP/4.0#}"


@pytest.fixture(scope="module")
def odd_server(tmp_path_factory):
    """Unsigned variables and attributes, a control character and infinities in attributes, blank strings."""
    tmp = tmp_path_factory.mktemp("odd")
    path = tmp / "odd.nc"
    with netCDF4.Dataset(path, "w") as d:
        d.createDimension("lat", 2)
        d.createDimension("lon", 3)
        d.createVariable("lat", "f8", ("lat",))[:] = [10, 20]
        d["lat"].units = "degrees_north"
        d.createVariable("lon", "f8", ("lon",))[:] = [0, 1, 2]
        d["lon"].units = "degrees_east"
        a = d.createVariable("a16", "u2", ("lat", "lon"), fill_value=np.uint16(65535))
        a[:] = [[1, 40000, 65534], [65535, 2, 3]]
        a.valid_max = np.uint16(65534)
        b = d.createVariable("b32", "u4", ("lat", "lon"))
        b[:] = [[1, 3_000_000_000, 5], [6, 7, 4_294_967_294]]
        c = d.createVariable("c8", "u1", ("lat", "lon"))
        c[:] = [[1, 200, 5], [6, 7, 8]]
        c.flag_values = np.array([1, 200], "u1")
        t = d.createVariable("t", "f4", ("lat", "lon"))
        t[:] = np.arange(6).reshape(2, 3)
        t.note = "bell\x07here"
        t.blank = " "
        t.valid_range = np.array([-np.inf, np.inf])
        t.units = "K"
        d.createDimension("n", len(LABELS))
        s = d.createVariable("label", str, ("n",))
        for i, text in enumerate(LABELS):
            s[i] = text
    with server_for({"odd": {"path": str(path)}}, tmp) as base:
        yield f"{base}/collections/odd/opendap", path


def test_unsigned_values_and_attributes_over_dap2_netcdf_c(odd_server):
    """xarray's netCDF4 engine on an http:// URL (DAP2): uint16/uint32 values past the signed range and unsigned
    attributes arrive as the same numbers (they came back as -25536, -1294967296 and flag_values -56)."""
    url, path = odd_server
    want = xr.open_dataset(path)
    got = xr.open_dataset(url, engine="netcdf4")
    for name in ("a16", "b32", "c8"):
        np.testing.assert_array_equal(got[name].values, want[name].values)
    assert int(got.a16.attrs["valid_max"]) == 65534
    assert [int(v) for v in got.c8.attrs["flag_values"]] == [1, 200]
    ncdump = need("ncdump")
    out = subprocess.run([ncdump, "-h", url], capture_output=True, text=True, check=True).stdout
    assert 'a16:_Unsigned = "true"' in out and 'b32:_Unsigned = "true"' in out


def test_unsigned_values_over_dap2_pydap(odd_server):
    url, path = odd_server
    from pydap.client import open_url

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = xr.open_dataset(xr.backends.PydapDataStore(open_url(url, protocol="dap2")))
    want = xr.open_dataset(path)
    for name in ("a16", "b32", "c8"):
        np.testing.assert_array_equal(got[name].values, want[name].values)


@pytest.mark.parametrize("proto", ["dap2", "dap4"])
def test_control_character_blank_and_infinite_attributes(odd_server, proto):
    """A BEL in one attribute made the DMR invalid XML (netCDF-C and pydap refused the whole dataset); `" "` was
    read back as "" over DAP4; `Infinity` in the DAS stopped pydap's DAP2 client from opening the dataset."""
    url, _ = odd_server
    with netCDF4.Dataset(url.replace("http://", "dap4://") if proto == "dap4" else url) as nc:
        t = nc["t"]
        assert t.units == "K" and t.blank == " "
        if proto == "dap2":  # netCDF-C's DAP4 parses Float32 attributes wrongly (-Inf becomes NaN): see conftest
            assert list(t.valid_range) == [-np.inf, np.inf]
        assert t.note == ("bell\ufffdhere" if proto == "dap4" else "bell\x07here")  # XML 1.0 cannot carry U+0007
    from pydap.client import open_url

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = open_url(url, protocol=proto)
    attrs = ds["t"].attributes
    assert attrs["units"] == "K" and attrs["blank"] == " "
    assert list(attrs["valid_range"]) == [-np.inf, np.inf]


def test_dmr_is_well_formed_xml(odd_server):
    import xml.etree.ElementTree as ET

    url, _ = odd_server
    root = ET.fromstring(requests.get(f"{url}.dmr").content)
    values = {a.get("name"): [v.get("value") for v in a.findall(DAP4_NS + "Value")]
              for a in root.iter(DAP4_NS + "Attribute")}
    assert values["note"] == ["bell\ufffdhere"] and values["blank"] == [" "]


def test_ascii_escapes_backslashes_and_quotes(odd_server):
    url, _ = odd_server
    text = requests.get(f"{url}.ascii?label").text
    assert 'label, "plain", "q\\"x\\\\y"' in text, text


def test_long_strings_arrive_whole_over_dap2(odd_server):
    """netCDF-C turns DAP2 strings into char arrays 64 long unless the DAS says `DODS { Int32 strlen; }`: the
    150-character label came back cut at 64. (Its DAP2 also drops backslashes inside string data: see README.)"""
    url, _ = odd_server
    got = xr.open_dataset(url, engine="netcdf4")["label"].values
    text = [v.decode() if isinstance(v, bytes) else str(v) for v in got]
    assert text[0] == LABELS[0] and text[2] == LABELS[2]
    from pydap.client import open_url

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = xr.open_dataset(xr.backends.PydapDataStore(open_url(url, protocol="dap2")))
    assert [v.decode() if isinstance(v, bytes) else str(v) for v in ds["label"].values] == LABELS
