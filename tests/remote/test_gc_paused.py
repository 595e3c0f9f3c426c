"""Remote HDF5 reads pause the cyclic garbage collector (cubeserver/sources/gc_paused.py): h5py holds its lock
while it reads through the fsspec file, and a collection in fsspec's thread that frees h5py objects would wait
for that lock for ever (a hung job was seen). Overlapping reads keep it paused until the last one ends."""

from __future__ import annotations

import gc
import io
import pickle
import threading

import fsspec
import numpy as np
import xarray as xr

from cubeserver.sources.gc_paused import GCPausedFile
from tests.conftest import DATASETS


class _Slow(io.BytesIO):
    """A file whose reads wait for the test to let them finish, recording whether the collector ran."""

    def __init__(self, data: bytes, gate: threading.Event):
        super().__init__(data)
        self.gate = gate
        self.seen: list[bool] = []

    def readinto(self, buffer):
        self.seen.append(gc.isenabled())
        self.gate.wait(10)
        return super().readinto(buffer)


def test_collector_paused_while_any_read_runs_and_restored_after():
    assert gc.isenabled()
    gates = [threading.Event(), threading.Event()]
    files = [GCPausedFile(_Slow(b"x" * 100, g)) for g in gates]
    threads = [threading.Thread(target=f.readinto, args=(bytearray(10),)) for f in files]
    for t in threads:
        t.start()
    while not all(f._inner.seen for f in files):
        pass
    assert files[0]._inner.seen == [False] and files[1]._inner.seen == [False]
    gates[0].set()
    threads[0].join()
    assert not gc.isenabled()  # the other read still runs
    gates[1].set()
    threads[1].join()
    assert gc.isenabled()


def test_wrapped_file_opens_as_netcdf_and_pickles_as_itself():
    with fsspec.open(str(DATASETS / "coads_sst.nc"), "rb") as raw:
        f = GCPausedFile(raw)
        with xr.open_dataset(f, chunks={}) as ds, xr.open_dataset(DATASETS / "coads_sst.nc") as local:
            np.testing.assert_array_equal(ds["SST"].values, local["SST"].values)
        again = pickle.loads(pickle.dumps(f))
        again.seek(0)
        assert isinstance(again, GCPausedFile) and again.read(8) == (DATASETS / "coads_sst.nc").read_bytes()[:8]
    assert gc.isenabled()
