"""Remote HDF5 reads with Python's cyclic garbage collector paused: no h5py / fsspec deadlock.

h5py holds its global lock ("phil") while it reads through a Python file object; an fsspec file's read
waits for fsspec's event-loop thread ("fsspecIO"). If the collector runs in that thread while it
allocates (botocore building a client, aiohttp parsing an answer) and meets unreachable h5py objects
(an older file's groups and variables live in reference cycles), their deallocation waits for phil:
each thread waits for the other, for ever. Seen in tests: a job on a remote NetCDF whose graph the
in-process dask scheduler unpickles (re-opening the file) hung the server.

`GCPausedFile` wraps the fsspec file given to h5netcdf: while any thread is inside one of its reads, the
collector is disabled process-wide (a count of readers under a lock, so overlapping reads re-enable it
only when the last one ends). Reference counting still frees everything acyclic; cycles wait for the
next collection outside the read. It pickles as the file it wraps (dask ships graphs holding it).
"""

from __future__ import annotations

import gc
import io
import threading

_lock = threading.Lock()
_readers = 0
_was_enabled = True


def _pause() -> None:
    global _readers, _was_enabled
    with _lock:
        if _readers == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _readers += 1


def _resume() -> None:
    global _readers
    with _lock:
        _readers -= 1
        if _readers == 0 and _was_enabled:
            gc.enable()


class GCPausedFile:
    """A read-only file object (fsspec's) whose reads run with the cyclic garbage collector paused; every
    other attribute is the wrapped file's."""

    def __init__(self, inner):
        self._inner = inner

    def read(self, *args):
        _pause()
        try:
            return self._inner.read(*args)
        finally:
            _resume()

    def readinto(self, buffer):
        _pause()
        try:
            return self._inner.readinto(buffer)
        finally:
            _resume()

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._inner.close()

    def __reduce__(self):
        return (GCPausedFile, (self._inner,))

    def __repr__(self) -> str:
        return f"GCPausedFile({self._inner!r})"


io.IOBase.register(GCPausedFile)  # a file object to xarray's engine guessing (it reads the magic number)
