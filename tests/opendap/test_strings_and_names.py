"""String variables, scalar bytes and names outside the DAP2 identifier characters, read back by netCDF-C and pydap.

A DAP2 String array carries its count once (libdap's Vector, netCDF-C's and pydap's readers), unlike
numeric arrays (twice): with the count twice every client read the count as the first string's length.
A scalar DAP2 Byte is one 4-byte XDR unit that netCDF-C reads as an int (the value in its last byte)
and pydap by its first byte.
"""

from __future__ import annotations

import struct
import subprocess
import warnings

import numpy as np
import pytest
import requests
import xarray as xr

from .conftest import need, server_for

LABELS = ["ab", 'c"d']


@pytest.fixture(scope="module")
def names_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("names")
    grid = np.arange(24, dtype="float32").reshape(2, 3, 4)
    ds = xr.Dataset({"g": (("time", "lat", "lon"), grid),
                     "air temp": (("time", "lat", "lon"), grid + 100, {"units": "K"}),
                     "label": (("time",), np.array(LABELS)),
                     "flag": ((), np.uint8(200)), "small": ((), np.int8(-3))},
                    coords={"time": ("time", [0.0, 1.0], {"units": "days since 2000-01-01"}),
                            "lat": ("lat", [10.0, 20.0, 30.0]), "lon": ("lon", [0.0, 1.0, 2.0, 3.0])})
    path = tmp / "names.nc"
    ds.to_netcdf(path)
    with server_for({"names": {"path": str(path)}}, tmp) as base:
        yield f"{base}/collections/names/opendap"


def test_dods_string_array_count_once(names_server):
    body = requests.get(f"{names_server}.dods?label").content
    dds, _, data = body.partition(b"Data:\n")
    assert b"String label[time = 2];" in dds
    assert struct.unpack(">I", data[:4]) == (2,)
    assert data[4:] == struct.pack(">I", 2) + b"ab\0\0" + struct.pack(">I", 3) + b'c"d\0'


def test_ncdump_reads_string_variable(names_server):
    ncdump = need("ncdump")
    out = subprocess.run([ncdump, "-v", "label", names_server], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert '"ab"' in out.stdout and '"c\\"d"' in out.stdout


@pytest.mark.parametrize("protocol", ["dap2", "dap4"])
def test_pydap_reads_strings_and_escaped_names(names_server, protocol):
    from pydap.client import open_url

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = xr.open_dataset(xr.backends.PydapDataStore(open_url(names_server, protocol=protocol)))
        labels = [v.decode() if isinstance(v, bytes) else str(v) for v in ds["label"].values]
        assert labels == LABELS
        name = "air temp" if "air temp" in ds else "air%20temp"
        assert ds[name].values.tolist() == (np.arange(24, dtype="float32").reshape(2, 3, 4) + 100).tolist()


@pytest.mark.parametrize("engine", ["netcdf4", "pydap"])
def test_scalar_bytes_over_dap2(names_server, engine):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = xr.open_dataset(names_server, engine=engine)  # both read http:// URLs as DAP2
        assert int(ds["flag"]) == 200 and int(ds["small"]) == -3


def test_dap4_constraint_with_backslash_escaped_name(names_server):
    """DAP4 names escape special characters with a backslash (netCDF-C writes its paths that way): `/air\\ temp`."""
    r = requests.get(f"{names_server}.dmr", params={"dap4.ce": "/air\\ temp[0][1:2][0:1:3]"})
    assert r.status_code == 200, r.text
    assert '<Float32 name="air temp">' in r.text and '<Dimension name="lat" size="2"/>' in r.text
    r = requests.get(f"{names_server}.dap", params={"dap4.ce": "/air\\ temp[1][2][3]", "dap4.checksum": "false"})
    assert r.status_code == 200 and r.content.endswith(np.float32(123).tobytes())
