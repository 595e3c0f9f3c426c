"""Streamed NetCDF-3 answers read through `direct_read.RowReader` in growing slabs (`encode.slabs.ramped`):
the bytes are those of the same answer computed with dask (chunk cache disabled), on a Zarr store and a
NetCDF file without fill values (read by rows), chunked by the config into several partial blocks along
every axis, and on bundled sources whose CF encoding (fill values, packing) leaves them to dask."""

from __future__ import annotations

import asyncio
import io
import threading

import numpy as np
import pytest
import xarray as xr

from cubeserver.encode import netcdf, netcdf3, slabs
from cubeserver.sources import chunk_cache
from tests.conftest import DATASETS, client_for

CUTS = {"TIME": 5, "COADSY": 40, "COADSX": 70}
QUERIES = {
    "sst": "/collections/sst/cube?bbox=-180,-90,180,90&f=NetCDF",
    "coads": "/collections/coads/cube?bbox=-100,-50,120,70&parameter-name=SST,AIRT&f=NetCDF",
    "nofill-nc": "/collections/nofill-nc/cube?bbox=-100,-50,120,70&f=NetCDF",
    "nofill-zarr": "/collections/nofill-zarr/cube?bbox=-100,-50,120,70&f=NetCDF",
}


def _collections(folder) -> dict:
    """The bundled sources, and coads' SST without missing values written as NetCDF and as Zarr (no CF
    encoding to apply: the values are read by rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    with xr.open_dataset(DATASETS / "coads_sst.nc") as src:
        ds = src[["SST"]].fillna(0).load()
    for v in ds.variables.values():
        v.encoding = {"_FillValue": None} if v.dtype.kind == "f" else {"units": "hours since 2000-01-01"}
    ds.to_netcdf(folder / "nofill.nc")
    ds.chunk({"TIME": 4, "COADSY": 30, "COADSX": 50}).to_zarr(folder / "nofill.zarr", mode="w")
    return {"sst": {"path": str(DATASETS / "analysed_sst.zarr")},
            "coads": {"path": str(DATASETS / "coads_sst.nc"), "chunks": CUTS},
            "nofill-nc": {"path": str(folder / "nofill.nc"), "chunks": CUTS},
            "nofill-zarr": {"path": str(folder / "nofill.zarr")}}


def test_ramped_partitions_the_cuts_in_growing_slabs():
    cuts = [slice(0, 24), slice(24, 48), slice(48, 50)]
    got = slabs.ramped(cuts, row_bytes=100_000, first=250_000)
    assert [r for s in got for r in range(s.start, s.stop)] == list(range(50))  # every row once, in order
    assert not any(s.start < c.stop < s.stop for s in got for c in cuts)  # no slab crosses a cut
    assert [s.stop - s.start for s in got] == [2, 5, 10, 7, 24, 2]  # ~250 kB, doubling, cut at each boundary
    assert slabs.ramped([slice(0, 3)], row_bytes=10 << 20) == [slice(0, 1), slice(1, 3)]  # a row > first: one, then two
    assert slabs.ramped([], row_bytes=8) == []


def _answers(tmp_path, monkeypatch, cache_bytes: int) -> dict[str, list[bytes]]:
    """Each query twice (with the cache: first with cold chunks, then with every chunk cached)."""
    monkeypatch.setattr(netcdf, "STREAM_MIN", 0)  # every answer streamed
    out = {}
    with client_for(_collections(tmp_path / "data"), tmp_path, limits={"chunk_cache_bytes": cache_bytes}) as client:
        for cid, url in QUERIES.items():
            for _ in range(2):
                r = client.get(url)
                assert r.status_code == 200, r.text
                assert int(r.headers["content-length"]) == len(r.content)
                assert r.content[:4] == b"CDF\x02"  # NetCDF-3: the streamed writer
                out.setdefault(cid, []).append(r.content)
    return out


def test_streamed_rows_same_bytes_as_dask(tmp_path, monkeypatch):
    slabs_read, streams = [], []
    real_read, real_stream = netcdf3._read_slab, netcdf3.stream

    def reading(job, cached_only=False):
        slabs_read.append((job[0].ndim, job[3] is not None))
        return real_read(job, cached_only)

    def streaming(plan):
        streams.append(plan)
        return real_stream(plan)

    monkeypatch.setattr(netcdf3, "_read_slab", reading)
    monkeypatch.setattr(netcdf3, "stream", streaming)
    monkeypatch.setattr(slabs, "PIECE", 4096)  # small slabs: several per variable
    plain = _answers(tmp_path / "plain", monkeypatch, 0)
    assert not any(rows for _, rows in slabs_read) and not streams  # no chunk cache: dask, in threads
    slabs_read.clear()
    encoded = []
    real_call = netcdf3._SlabEncoder.__call__

    def spying(self, values, dtype):
        out = real_call(self, values, dtype)
        encoded.append((self.name, out is not None))
        return out

    monkeypatch.setattr(netcdf3._SlabEncoder, "__call__", spying)
    cached = _answers(tmp_path / "cached", monkeypatch, 256 << 20)
    assert all(rows for ndim, rows in slabs_read if ndim == 3)  # every grid read by rows
    assert len(streams) == len(QUERIES)  # each second request: every chunk cached, copied on the event loop
    # fill values (coads' SST and AIRT) and packing (sst) encoded slab by slab, none left to dask
    assert {"SST", "AIRT"} <= {name for name, ok in encoded} and all(ok for _, ok in encoded)
    raw = {"mask_and_scale": False, "decode_times": False}
    for cid in QUERIES:  # the same file; sst's variables come in another order through the cache: same content
        for answer in cached[cid]:
            if cid != "sst":
                assert answer == plain[cid][0], cid
            xr.testing.assert_identical(xr.open_dataset(io.BytesIO(answer), **raw),
                                        xr.open_dataset(io.BytesIO(plain[cid][0]), **raw))
    with xr.open_dataset(DATASETS / "coads_sst.nc") as src:
        for cid in ("coads", "nofill-nc", "nofill-zarr"):
            got = xr.open_dataset(io.BytesIO(cached[cid][1]))
            ref = src["SST"].sel(COADSX=got.COADSX, COADSY=got.COADSY)
            np.testing.assert_array_equal(got["SST"].values, ref.values if cid == "coads" else ref.fillna(0).values)


def _warm_plan(client, cid: str, monkeypatch) -> tuple[netcdf3.Layout, bytes, list]:
    """The NetCDF-3 plan of collection `cid` with every chunk cached, `body`'s bytes, and a list that records
    each slab read by `_read_slab` as (on the main thread, the variable's bytes)."""
    plan = netcdf3.layout(netcdf.clean_for_netcdf(client.app.state.ctx.registry.get(cid).ds))
    reference = b"".join(bytes(p) for p in netcdf3.body(plan))  # reads (and caches) every chunk
    assert netcdf3.cached(plan)
    reads = []
    real_read = netcdf3._read_slab
    monkeypatch.setattr(netcdf3, "_read_slab", lambda job, cached_only=False: (
        reads.append((threading.current_thread() is threading.main_thread(), job[0].nbytes))
        or real_read(job, cached_only)))
    return plan, reference, reads


def test_event_loop_stream_reads_evicted_chunks_in_a_thread(tmp_path, monkeypatch):
    """A file planned with every chunk cached, whose chunks are then evicted before it is sent: the slabs
    that are no longer cached are read in a worker thread, and the bytes are the same."""
    with client_for(_collections(tmp_path / "data"), tmp_path) as client:
        plan, reference, reads = _warm_plan(client, "nofill-nc", monkeypatch)

        async def collect():
            out = []
            async for piece in netcdf3.stream(plan):
                out.append(bytes(piece))
                if len(out) == 2:
                    chunk_cache.CACHE.clear()  # evicted while the answer is being sent
            return b"".join(out)

        assert asyncio.run(collect()) == reference
        on_loop = [main for main, _ in reads]
        assert any(on_loop) and not all(on_loop)  # first slabs on the loop, the rest in a thread
        assert not netcdf3.cached(plan)


@pytest.mark.parametrize("first", [1, 4096, 1 << 30])
def test_body_bytes_do_not_depend_on_slab_sizes(tmp_path, monkeypatch, first):
    """netcdf3.body gives the same file whatever the first slab size (one row, a few kB, everything)."""
    with client_for(_collections(tmp_path / "data"), tmp_path) as client:
        ds = client.app.state.ctx.registry.get("nofill-nc").ds
        plan = netcdf3.layout(netcdf.clean_for_netcdf(ds))
        monkeypatch.setattr(slabs, "PIECE", 1 << 30)
        whole = list(netcdf3.body(plan))
        reference = b"".join(bytes(p) for p in whole)
        monkeypatch.setattr(slabs, "PIECE", first)
        pieces = list(netcdf3.body(plan))
        assert b"".join(bytes(p) for p in pieces) == reference
        assert len(reference) == plan.size
        assert (len(pieces) > len(whole)) == (first < 1 << 30)  # smaller first slabs: more of them


REAL = {  # packed NetCDF, GRIB2 (lat/lon, polar stereographic), multi-file curvilinear 360_day, hybrid height
    "eraint": {"path": str(DATASETS / "eraint_uvz.nc")},
    "gem-global": {"path": str(DATASETS / "CMC_glb_TMP_TGL_2_latlon.15x.15_2020081000_P000.grib2")},
    "hrdps": {"path": str(DATASETS / "CMC_hrdps_continental_TMP_TGL_80_ps2.5km_2020102700_P005-00.grib2")},
    "nemo-sst": {"path": str(DATASETS / "grids/nemo/*.nc")},
    "hybrid-height": {"path": str(DATASETS / "grids/hybrid_height.nc")},
}


def test_streamed_rows_same_bytes_as_dask_on_real_archives(tmp_path, monkeypatch):
    """Whole coverages of real archives, streamed: through the chunk cache (rows, slab-encoded) byte for byte
    what dask computes with the cache off."""
    monkeypatch.setattr(netcdf, "STREAM_MIN", 0)
    answers = []
    for cache in (0, 256 << 20):
        with client_for(REAL, tmp_path / str(cache), limits={"chunk_cache_bytes": cache}) as client:
            got = {}
            for cid in REAL:
                r = client.get(f"/collections/{cid}/coverage?f=NetCDF")
                assert r.status_code == 200 and r.content[:4] == b"CDF\x02", (cid, r.text[:200])
                got[cid] = r.content
            answers.append(got)
    for cid in REAL:
        assert answers[0][cid] == answers[1][cid], cid


def test_event_loop_stream_sends_pieces_and_reads_big_rows_in_a_thread(tmp_path, monkeypatch):
    """A GRIB field is one row of 11.5 MB: the event-loop stream reads it in a worker thread (the loop copies
    at most ~PIECE bytes between sends) and sends it in pieces of at most PIECE bytes, same bytes as `body`."""
    with client_for({"gem": REAL["gem-global"]}, tmp_path) as client:
        plan, reference, on_loop = _warm_plan(client, "gem", monkeypatch)

        async def collect():
            return [bytes(p) async for p in netcdf3.stream(plan)]

        pieces = asyncio.run(collect())
        assert b"".join(pieces) == reference
        assert max(len(p) for p in pieces) <= slabs.PIECE and len(pieces) > 10
        assert all(nbytes <= 2 * slabs.PIECE for main, nbytes in on_loop if main)  # the field: in a thread
        assert any(not main and nbytes > 2 * slabs.PIECE for main, nbytes in on_loop)
