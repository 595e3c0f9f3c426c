"""A collection source's version: a short token that changes when its data does (issue 16, live collections).

Local: the names, sizes and mtimes of a glob's files, of a file, or of a Zarr store's metadata documents
(root and each array's: appending time steps rewrites them). Remote: ETags/sizes (`remote.fingerprint`);
kerchunk and Icechunk: the reference's or the branch's snapshot (`virtual.fingerprint`). Cheap enough to
poll every few seconds (a stat or a HEAD per object, a listing per glob).
"""

from __future__ import annotations

import glob as _glob
import hashlib
import os
from pathlib import Path

_ZARR_META = ("zarr.json", ".zmetadata", ".zattrs", ".zgroup", ".zarray")


def fingerprint(cc, config) -> tuple[str, float | None]:
    """(version token, latest modification time or None) of collection config `cc`'s source; raises the store's
    error when it cannot be asked. The time is the source's own, the same in every server process."""
    from ..config import is_url

    if cc.format in ("kerchunk", "icechunk"):
        from .virtual import fingerprint as virtual

        return virtual(str(config.resolve(cc.path)), cc.format, cc, config.remote)
    if is_url(cc.path):
        from .remote import fingerprint as remote

        return remote(cc.path, cc.format, cc.storage_options, config.remote)
    stats = _local_stats(Path(config.resolve(cc.path)))
    times = [s[2] / 1e9 for s in stats if len(s) == 3]
    return _digest(stats), (max(times) if times else None)


def _local_stats(path: Path) -> list:
    text = str(path)
    if any(ch in text for ch in "*?["):
        return [_stat(f) for f in sorted(_glob.glob(text))]
    if path.is_dir():
        files = [path / m for m in _ZARR_META]
        for child in sorted(path.iterdir()):
            if child.is_dir():
                files.extend(child / m for m in _ZARR_META)
        return [_stat(str(f)) for f in files if f.exists()]
    return [_stat(text)]


def _stat(path: str) -> tuple:
    try:
        st = os.stat(path)
    except OSError:
        return (path, "absent")
    return (path, st.st_size, st.st_mtime_ns)


def _digest(stats) -> str:
    return hashlib.blake2b(repr(stats).encode(), digest_size=8).hexdigest()
