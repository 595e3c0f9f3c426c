"""An optional on-disk tile cache with a size bound (LRU) that never serves a tile of an older source.

Config: `tiles.cache_dir` (unset: no disk cache) and `tiles.cache_bytes` (the bound). A tile is
stored under `<cache_dir>/<collection>/<key>`, where the key hashes the request (path and query),
the server and collection configuration and the source's modification time, so:
- a changed source file gives new keys; the first request that sees a new modification time of a
  collection also deletes that collection's older tiles (`invalidate`), so no stale tile is ever
  served and the space is given back at once;
- every hit refreshes the file's modification time; when a write takes the cache over its bound,
  the least recently used files go first.
Writes are atomic (a temporary file renamed into place), so a concurrent reader sees a whole tile or none.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from pathlib import Path

log = logging.getLogger("cubeserver")


def cache_key(*parts: str) -> str:
    h = hashlib.blake2b(digest_size=20)
    for p in parts:
        h.update(p.encode() + b"\0")
    return h.hexdigest()


class TileCache:
    """Bounded LRU cache of tile bodies on disk: `get(collection, key)`, `put(collection, key, body)`."""

    def __init__(self, root: Path, max_bytes: int):
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._mtimes: dict[str, float] = {}  # source modification time last seen per collection
        self.size = sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())
        self.hits = self.misses = self.evictions = 0

    def _path(self, collection: str, key: str) -> Path:
        return self.root / collection / key

    def invalidate(self, collection: str, source_mtime: float) -> None:
        """Drop the collection's tiles when its source changed since the last call (or at the first call after
        a restart, when the files on disk may come from an older source)."""
        with self._lock:
            seen = self._mtimes.get(collection)
            if seen == source_mtime:
                return
            self._mtimes[collection] = source_mtime
            folder = self.root / collection
            if folder.is_dir():
                freed = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
                shutil.rmtree(folder, ignore_errors=True)
                self.size = max(0, self.size - freed)

    def get(self, collection: str, key: str) -> bytes | None:
        path = self._path(collection, key)
        try:
            body = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        try:
            now = time.time()
            os.utime(path, (now, now))  # most recently used
        except OSError:
            pass
        self.hits += 1
        return body

    def put(self, collection: str, key: str, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        path = self._path(collection, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{key}.{threading.get_ident()}.tmp")
            tmp.write_bytes(body)
            existed = path.exists()
            old = path.stat().st_size if existed else 0
            os.replace(tmp, path)
        except OSError as e:
            log.warning("tile cache: cannot write %s: %s", path, e)
            return
        with self._lock:
            self.size += len(body) - old
            if self.size > self.max_bytes:
                self._evict()

    def _evict(self) -> None:
        """Remove least recently used files until the cache is at most 90% of its bound."""
        files = []
        for f in self.root.rglob("*"):
            if f.is_file():
                try:
                    st = f.stat()
                except OSError:
                    continue
                files.append((st.st_mtime, st.st_size, f))
        files.sort(key=lambda t: t[0])
        total = sum(s for _, s, _ in files)
        target = int(self.max_bytes * 0.9)
        for _, size, f in files:
            if total <= target:
                break
            try:
                f.unlink()
                total -= size
                self.evictions += 1
            except OSError:
                continue
        self.size = total
