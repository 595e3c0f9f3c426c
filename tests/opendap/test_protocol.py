"""Protocol rules: attribute escaping, errors (DAP2 `Error {}` bodies with the right status), the size guard,
private collections, the request form, DAP4 checksums, job results."""

from __future__ import annotations

import struct
import subprocess
import zlib

import numpy as np
import pytest
import requests
import xarray as xr

from tests.auth.conftest import COLLECTIONS as AUTH_COLLECTIONS
from tests.conftest import client_for

from .conftest import need, server_for

TRICKY = 'He said "hi" \\ then left; C:\\path\\ "quoted"'


@pytest.fixture(scope="module")
def tricky_server(tmp_path_factory):
    """A small file whose attributes hold double quotes, backslashes and a name with a space."""
    tmp = tmp_path_factory.mktemp("tricky")
    ds = xr.Dataset({"t": (("time", "lat", "lon"), np.arange(24, dtype="float32").reshape(2, 3, 4),
                           {"comment": TRICKY, "units": "K", "long name": "with space", "scale": 0.1})},
                    coords={"time": ("time", [0.0, 1.0], {"units": "days since 2000-01-01"}),
                            "lat": ("lat", [10.0, 20.0, 30.0], {"units": "degrees_north"}),
                            "lon": ("lon", [0.0, 1.0, 2.0, 3.0], {"units": "degrees_east"})},
                    attrs={"title": 'a "quoted" title\\'})
    path = tmp / "tricky.nc"
    ds.to_netcdf(path)
    with server_for({"tricky": {"path": str(path)}}, tmp, limits={"max_cells": 30}) as base:
        yield base


def test_quotes_and_backslashes_survive_ncdump(tricky_server):
    ncdump = need("ncdump")
    out = subprocess.run([ncdump, "-h", f"{tricky_server}/collections/tricky/opendap"], capture_output=True,
                         text=True, check=True).stdout
    cdl_escaped = TRICKY.replace("\\", "\\\\").replace('"', '\\"')
    assert f't:comment = "{cdl_escaped}" ;' in out
    assert 't:units = "K" ;' in out  # the attribute after the tricky one is still there
    assert "t:scale = 0.1 ;" in out
    assert ':title = "a \\"quoted\\" title\\\\" ;' in out


def _pydap(url: str, protocol: str) -> xr.Dataset:
    import warnings

    from pydap.client import open_url

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_dataset(xr.backends.PydapDataStore(open_url(url, protocol=protocol)))


def test_quotes_and_backslashes_survive_pydap_dap4(tricky_server):
    ds = _pydap(f"{tricky_server}/collections/tricky/opendap", "dap4")
    assert ds.t.attrs["comment"] == TRICKY
    assert ds.t.attrs["long name"] == "with space"
    assert ds.attrs["title"] == 'a "quoted" title\\'


def test_pydap_dap2_keeps_the_attributes_after_a_quoted_one(tricky_server):
    """pydap's DAS parser does not undo the DAP2 escapes (it shows \\" as is), but nothing after is lost."""
    ds = _pydap(f"{tricky_server}/collections/tricky/opendap", "dap2")
    assert ds.t.attrs["units"] == "K" and ds.t.attrs["scale"] == 0.1
    assert ds.t.values.tolist() == np.arange(24, dtype="float32").reshape(2, 3, 4).tolist()


def test_size_guard_413(tricky_server):
    r = requests.get(f"{tricky_server}/collections/tricky/opendap.dods")  # 24 + 2 + 3 + 4 values > 30
    assert r.status_code == 413
    assert r.text.startswith("Error {") and "code = 413;" in r.text and "limit of 30" in r.text
    r = requests.get(f"{tricky_server}/collections/tricky/opendap.dods?t[0:1:0][0:1:2][0:1:3]")
    assert r.status_code == 200
    r = requests.get(f"{tricky_server}/collections/tricky/opendap.dap")
    assert r.status_code == 413 and "<Error" in r.text


@pytest.mark.parametrize("query,words", [
    ("nope", ["no variable 'nope'", "t, "]),
    ("t[0:1:5][0][0]", ["past the end", "time", "size 2"]),
    ("t[0][0]", ["3 dimension(s)", "time, lat, lon"]),
    ("t[1:0][0][0]", ["before start"]),
    ("t[a:b][0][0]", ["[start:stride:stop]"]),
    ("t[0:0:1][0][0]", ["stride 0"]),
    ("t&t>3", ["selections"]),
    ("geogrid(t,1,2,3,4)", ["functions"]),
])
def test_bad_constraint_is_400_in_dap2_error_format(tricky_server, query, words):
    r = requests.get(f"{tricky_server}/collections/tricky/opendap.dods?{query}")
    assert r.status_code == 400
    assert r.text.startswith("Error {\n    code = 400;\n    message = \"")
    assert r.text.rstrip().endswith("};")
    for w in words:
        assert w in r.text, r.text
    ncdump = need("ncdump")
    p = subprocess.run([ncdump, "-h", f"{tricky_server}/collections/tricky/opendap?{query}"], capture_output=True,
                       text=True)
    assert p.returncode != 0


def test_dap4_bad_constraint_is_400_xml(tricky_server):
    r = requests.get(f"{tricky_server}/collections/tricky/opendap.dap?dap4.ce=/t[9][0][0]")
    assert r.status_code == 400 and "<Error httpcode=\"400\">" in r.text and "past the end" in r.text


def test_unknown_collection_404_in_dap2_format(tricky_server):
    r = requests.get(f"{tricky_server}/collections/nope/opendap.dds")
    assert r.status_code == 404 and r.text.startswith("Error {") and "code = 404;" in r.text


def _chunks(body: bytes):
    """DAP4 chunks: (flags, payload)."""
    out, i = [], 0
    while i < len(body):
        (head,) = struct.unpack(">I", body[i:i + 4])
        n = head & 0xFFFFFF
        out.append((head >> 24, body[i + 4:i + 4 + n]))
        i += 4 + n
    return out


def test_dap4_chunks_and_checksums(tricky_server):
    r = requests.get(f"{tricky_server}/collections/tricky/opendap.dap?dap4.ce=/lat;/lon&dap4.checksum=true")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.opendap.dap4.data")
    chunks = _chunks(r.content)
    assert chunks[-1][0] & 1 and all(flags & 4 for flags, _ in chunks)  # last flagged; little-endian
    dmr, data = chunks[0][1], b"".join(p for _, p in chunks[1:])
    assert b'<Float64 name="lat">' in dmr and b"<Float64 name=\"t\">" not in dmr
    lat, crc_lat = data[:24], struct.unpack("<I", data[24:28])[0]
    lon, crc_lon = data[28:60], struct.unpack("<I", data[60:64])[0]
    assert np.frombuffer(lat, "<f8").tolist() == [10.0, 20.0, 30.0]
    assert np.frombuffer(lon, "<f8").tolist() == [0.0, 1.0, 2.0, 3.0]
    assert (crc_lat, crc_lon) == (zlib.crc32(lat), zlib.crc32(lon))


def test_dods_is_xdr(tricky_server):
    r = requests.get(f"{tricky_server}/collections/tricky/opendap.dods?t[1:1:1][0:2:2][1:1:2]")
    dds, _, data = r.content.partition(b"Data:\n")
    assert b"Float32 t[time = 1][lat = 2][lon = 2];" in dds
    assert struct.unpack(">II", data[:8]) == (4, 4)
    src = np.arange(24, dtype="float32").reshape(2, 3, 4)[1:2, 0:3:2, 1:3]
    assert np.frombuffer(data[8:], ">f4").tolist() == src.ravel().tolist()


def test_ascii_and_form(tricky_server):
    r = requests.get(f"{tricky_server}/collections/tricky/opendap.ascii?lat")
    assert r.status_code == 200 and "lat[3]" in r.text and "10.0, 20.0, 30.0" in r.text
    page = requests.get(f"{tricky_server}/collections/tricky/opendap")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"] and "tricky" in page.text
    r = requests.get(f"{tricky_server}/collections/tricky/opendap.html",
                     params={"var": "t", "slab.t": "[0:1:0][0:1:0][0:1:3]", "format": "ascii"})
    assert r.status_code == 200 and r.url.endswith(".ascii?t[0:1:0][0:1:0][0:1:3]")
    assert "t[0][0], 0.0, 1.0, 2.0, 3.0" in r.text


KEY = "opendap-analyst-key"


def test_private_collection_as_other_apis(tmp_path):
    auth = {"api_keys": [{"name": "alice", "key": KEY, "roles": ["analyst"]}, {"name": "bob", "key": "bob-key"}]}
    with client_for(AUTH_COLLECTIONS, tmp_path, auth=auth) as c:
        for path in ("opendap.dds", "opendap.das", "opendap.dods", "opendap.dmr", "opendap.dap"):
            anonymous = c.get(f"/collections/secret-sst/{path}")
            assert anonymous.status_code == 404, path  # hidden, like EDR/Coverages/Zarr
            assert c.get(f"/collections/secret-sst/{path}", headers={"X-API-Key": "bob-key"}).status_code == 404
            assert c.get(f"/collections/secret-sst/{path}", headers={"X-API-Key": KEY}).status_code == 200
            assert c.get(f"/collections/coads/{path}?SST[0][0][0]" if "dap" not in path[-4:] else
                         f"/collections/coads/{path}").status_code == 200
        assert c.get("/collections/secret-sst/opendap.dds", headers={"X-API-Key": "wrong"}).status_code == 401
    auth["protect"] = {"data": ["analyst"]}
    with client_for(AUTH_COLLECTIONS, tmp_path, auth=auth) as c:
        assert c.get("/collections/coads/opendap.dds").status_code == 401
        assert c.get("/collections/coads/opendap.dds", headers={"X-API-Key": "bob-key"}).status_code == 403
        assert c.get("/collections/coads/opendap.dds", headers={"X-API-Key": KEY}).status_code == 200


def test_job_result_collection_over_opendap(dap_base, tmp_path):
    """A process's published result (`job-{id}`) is served like any collection: values equal its NetCDF result."""
    r = requests.post(f"{dap_base}/processes/temporal-aggregate/execution",
                      json={"inputs": {"collection": "coads", "variables": ["SST"], "grouping": "season"},
                            "response": "document"}, timeout=300)
    assert r.status_code == 200, r.text
    job = r.headers["link"].split("/jobs/")[1].split(">")[0]
    result = tmp_path / "result.nc"
    result.write_bytes(requests.get(f"{dap_base}/jobs/{job}/results/result", timeout=120).content)
    want = xr.open_dataset(result)
    got = xr.open_dataset(f"{dap_base}/collections/job-{job}/opendap", engine="netcdf4")
    np.testing.assert_array_equal(got.SST.values, want.SST.values)
    assert [str(t) for t in got.TIME.values] == [str(t) for t in want.TIME.values]
    ncdump = need("ncdump")
    out = subprocess.run([ncdump, "-h", f"{dap_base}/collections/job-{job}/opendap"], capture_output=True, text=True)
    assert out.returncode == 0 and "float SST(TIME, COADSY, COADSX)" in out.stdout


def test_job_result_is_its_submitters_only(tmp_path):
    """A job collection over OPeNDAP follows the job's owner, as in EDR: anyone else gets a DAP 404."""
    from tests.auth.test_access_control import wait_done

    auth = {"api_keys": [{"name": "alice", "key": KEY, "roles": ["analyst"]}, {"name": "bob", "key": "bob-key"}]}
    with client_for(AUTH_COLLECTIONS, tmp_path, auth=auth) as c:
        alice, bob = {"X-API-Key": KEY}, {"X-API-Key": "bob-key"}
        r = c.post("/processes/coarsen/execution", headers={**alice, "Prefer": "respond-async"},
                   json={"inputs": {"collection": "coads", "variables": "SST", "factors": {"x": 2}}})
        assert r.status_code == 201, r.text
        assert wait_done(c, r.headers["location"], alice)["status"] == "successful"
        cid = "job-" + r.headers["location"].rsplit("/", 1)[1]
        assert "Float32 SST[" in c.get(f"/collections/{cid}/opendap.dds", headers=alice).text
        for path in ("opendap.dds", "opendap.das", "opendap.dods", "opendap.ascii?SST", "opendap.dmr", "opendap.dap"):
            for who in (bob, {}):
                r = c.get(f"/collections/{cid}/{path}", headers=who)
                assert r.status_code == 404, (path, who, r.text)
                assert "code = 404;" in r.text or 'httpcode="404"' in r.text


HYPERSLAB_VALUES = np.arange(6 * 4 * 4, dtype="float32").reshape(6, 4, 4)


@pytest.fixture(scope="module")
def junk_server(tmp_path_factory):
    """One real CLI for the tests that overwrite Zarr chunks under a running server (a start costs seconds):
    each test has its own store and collection, made before the server starts, and ruins only its own chunks.
    Yields (base URL, {collection id: store}, the folder holding the stores)."""
    tmp = tmp_path_factory.mktemp("junk")
    values = {"mid-answer": np.arange(32, dtype="float32").reshape(2, 4, 4), "hyperslab": HYPERSLAB_VALUES,
              "unreadable": np.zeros((2, 4, 4), "float32")}
    stores = {}
    for cid, v in values.items():
        (tmp / cid).mkdir()
        stores[cid] = _zarr_store(tmp / cid, v)
    with server_for({cid: {"path": str(store)} for cid, store in stores.items()}, tmp) as base:
        yield base, stores, tmp


def test_dap4_read_failure_mid_answer_ends_with_an_error_chunk(junk_server):
    """A source chunk that cannot be read once the answer has started (here a Zarr chunk overwritten with junk after
    the server opened the store): the DAP4 answer ends with an error chunk naming no path, not with a cut."""
    base, stores, tmp = junk_server
    store = stores["mid-answer"]
    url = f"{base}/collections/mid-answer/opendap.dap?dap4.ce=/lat;/b"
    assert _chunks(requests.get(url).content)[-1][0] == 1 | 4  # intact: last, little-endian, no error
    (store / "b" / "1.0.0").write_bytes(b"\x00junk" * 20)
    r = requests.get(url)
    assert r.status_code == 200  # the status went out with the DMR, before the failing read
    flags, payload = _chunks(r.content)[-1]
    assert flags & 2 and flags & 1, flags  # error, last
    assert b"<Error" in payload and b"failed after the answer had started" in payload
    assert str(tmp).encode() not in r.content and b"Traceback" not in r.content


def test_hyperslab_reads_only_the_chunks_it_touches(junk_server):
    """Every source chunk a strided hyperslab does not touch is overwritten with junk after the server described
    the store: the hyperslab is still answered (over DAP2 and DAP4) with the source's values; the whole is not."""
    base, stores, _ = junk_server
    values, store = HYPERSLAB_VALUES, stores["hyperslab"]
    url = f"{base}/collections/hyperslab/opendap"
    assert requests.get(f"{url}.dds").status_code == 200  # described: one value of each variable read
    for t in (1, 3, 5):  # the hyperslab b[0:2:4] touches time steps 0, 2 and 4 only
        (store / "b" / f"{t}.0.0").write_bytes(b"\x00junk" * 20)
    r = requests.get(f"{url}.dods?b[0:2:4][0:1:3][1:2:3]")
    assert r.status_code == 200
    data = r.content.partition(b"Data:\n")[2]
    assert np.frombuffer(data[8:], ">f4").tolist() == values[0:5:2, :, 1:4:2].ravel().tolist()
    r = requests.get(f"{url}.dap", params={"dap4.ce": "/b[0:2:4][][1:2:3]", "dap4.checksum": "false"})
    payload = b"".join(p for _, p in _chunks(r.content)[1:])
    assert np.frombuffer(payload, "<f4").tolist() == values[0:5:2, :, 1:4:2].ravel().tolist()
    r = requests.get(f"{url}.dap", params={"dap4.ce": "/b", "dap4.checksum": "false"})
    assert _chunks(r.content)[-1][0] & 2  # the whole variable meets the junk: an error chunk


def _zarr_store(tmp_path, values):
    ds = xr.Dataset({"b": (("time", "lat", "lon"), values)},
                    coords={"time": ("time", np.arange(float(len(values))), {"units": "days since 2000-01-01"}),
                            "lat": ("lat", [0.0, 1, 2, 3], {"units": "degrees_north"}),
                            "lon": ("lon", [0.0, 1, 2, 3], {"units": "degrees_east"})})
    store = tmp_path / "b.zarr"
    ds.to_zarr(store, encoding={"b": {"chunks": (1, 4, 4)}}, zarr_format=2, consolidated=True)
    return store


def test_unreadable_source_is_a_dap_error_without_details(junk_server):
    """The DAP model is built on first use from one value of each variable: when that value cannot be read the
    answer is the server's 500 as a DAP document (netCDF-C prints its message), naming no path or traceback."""
    base, stores, tmp = junk_server
    (stores["unreadable"] / "b" / "0.0.0").write_bytes(b"\x00junk" * 20)
    r = requests.get(f"{base}/collections/unreadable/opendap.dds")
    assert r.status_code == 500 and r.text.startswith("Error {") and "code = 500;" in r.text, r.text
    r = requests.get(f"{base}/collections/unreadable/opendap.dmr")
    assert r.status_code == 500 and '<Error httpcode="500">' in r.text, r.text
    for body in (r.text, requests.get(f"{base}/collections/unreadable/opendap.das").text):
        assert "incident was logged" in body and str(tmp) not in body and "Traceback" not in body
