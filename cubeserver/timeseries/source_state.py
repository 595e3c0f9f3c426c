"""The identity of a collection's source files: what a time-series copy records and compares to stay in sync.

A source is described by `(path, mtime_ns, size, inode)` of each of its *watched* paths:
  - a file (NetCDF, GeoTIFF, GRIB): the file itself;
  - a glob: every matched file and the folders holding them (a new matching file changes its folder);
  - a Zarr store (a folder): every folder of the store and every metadata file (zarr.json, .zarray,
    .zattrs, .zgroup, .zmetadata). Zarr writes each chunk atomically (a temporary file renamed into
    place), so any rewritten chunk changes its folder's mtime, and any new chunk or variable too.
The *head* of a state is the part that is cheap to check on every request (the file, or the store's
root, metadata files and the array folders themselves); `StateWatch` checks the head on every call and
the whole state on every call too when it has at most `FULL_EVERY_CALL` paths, otherwise at most
every `recheck` seconds (a large Zarr with thousands of chunk folders).
"""

from __future__ import annotations

import glob
import os
import threading
import time
from pathlib import Path

ZARR_META = {"zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"}
FULL_EVERY_CALL = 512  # ~0.5 ms of stat() calls at most on every request


def _sig(path: str) -> list:
    try:
        st = os.stat(path)
    except OSError:
        return [path, None, None, None]
    return [path, st.st_mtime_ns, st.st_size, st.st_ino]


def watched_paths(source: Path) -> tuple[list[str], list[str]]:
    """(head, rest): the paths describing `source` (see the module docstring); head is a subset checked always."""
    text = str(source)
    if any(ch in text for ch in "*?["):
        files = sorted(glob.glob(text))
        return sorted({str(Path(f).parent) for f in files}) + files, []
    if not source.is_dir():
        return [text], []
    head, rest = [text], []
    for root, dirs, files in os.walk(text):
        dirs.sort()
        meta = sorted(f for f in files if f in ZARR_META)
        is_array_or_group = bool(meta)
        for f in meta:
            head.append(os.path.join(root, f))
        if root != text:
            (head if is_array_or_group else rest).append(root)
    return head, rest


def state_of(paths: list[str]) -> list[list]:
    """[[path, mtime_ns, size, inode], ...] now (None fields for a path that is gone)."""
    return [_sig(p) for p in paths]


class StateWatch:
    """Says whether a source still has the recorded state; cheap enough to call on every request.

    `recorded`: the state list saved when the copy was built ({"head": [...], "rest": [...]}).
    """

    def __init__(self, recorded: dict, recheck: float = 1.0):
        self.head = [tuple(s) for s in recorded["head"]]
        self.rest = [tuple(s) for s in recorded["rest"]]
        self.recheck = recheck
        self._full_ok_at = -1e18
        self._lock = threading.Lock()

    def _same(self, sigs) -> bool:
        for s in sigs:
            if tuple(_sig(s[0])) != s:
                return False
        return True

    def unchanged(self) -> bool:
        """True when every watched path still has its recorded mtime, size and inode."""
        if not self._same(self.head):
            return False
        if not self.rest:
            return True
        if len(self.head) + len(self.rest) <= FULL_EVERY_CALL:
            return self._same(self.rest)
        now = time.monotonic()
        if now - self._full_ok_at < self.recheck:
            return True
        with self._lock:
            if not self._same(self.rest):
                return False
            self._full_ok_at = now
        return True


def record(source: Path) -> dict:
    """The state of `source` now, as saved in a copy's manifest."""
    head, rest = watched_paths(source)
    return {"head": state_of(head), "rest": state_of(rest)}
