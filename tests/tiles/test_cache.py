"""The on-disk tile cache: hits, LRU eviction under the size bound, and no stale tile after the source changes."""

from __future__ import annotations

import os
import shutil
import time

from tests.conftest import DATASETS, client_for

URL = "/collections/c/map/tiles/WebMercatorQuad/{z}/{y}/{x}"


def _size(folder) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def test_cache_hits_and_never_serves_a_tile_of_an_older_source(tmp_path):
    src = tmp_path / "coads.nc"
    shutil.copy(DATASETS / "coads_sst.nc", src)
    cache = tmp_path / "tiles"
    with client_for({"c": {"path": str(src)}}, tmp_path, tiles={"cache_dir": str(cache)}) as client:
        first = client.get(URL.format(z=1, y=0, x=0))
        assert first.status_code == 200 and first.headers["x-tile-cache"] == "miss"
        again = client.get(URL.format(z=1, y=0, x=0))
        assert again.headers["x-tile-cache"] == "hit" and again.content == first.content
        assert again.headers["etag"] == first.headers["etag"]
        assert _size(cache) >= len(first.content)
        later = time.time() + 5
        os.utime(src, (later, later))  # the source changed (a rewrite in place keeps the path)
        fresh = client.get(URL.format(z=1, y=0, x=0))
        assert fresh.headers["x-tile-cache"] == "miss"  # the old tile is not served
        assert fresh.headers["etag"] != first.headers["etag"]
        assert client.get(URL.format(z=1, y=0, x=0), headers={"If-None-Match": first.headers["etag"]}).status_code == 200
        assert sum(1 for f in cache.rglob("*") if f.is_file()) == 1  # the older tile's file was removed


def test_cache_stays_under_its_bound_and_evicts_least_recently_used(tmp_path):
    src = tmp_path / "coads.nc"
    shutil.copy(DATASETS / "coads_sst.nc", src)
    cache = tmp_path / "tiles"
    tiles = [(2, y, x) for y in (1, 2) for x in range(4)]
    with client_for({"c": {"path": str(src)}}, tmp_path / "plain") as client:  # the tiles' sizes, no cache
        sizes = [len(client.get(URL.format(z=z, y=y, x=x)).content) for z, y, x in tiles]
    bound = sum(sizes) // 2  # room for about half of them: the first ones must go
    assert bound > max(sizes)
    with client_for({"c": {"path": str(src)}}, tmp_path, tiles={"cache_dir": str(cache), "cache_bytes": bound}) as client:
        for z, y, x in tiles:
            assert client.get(URL.format(z=z, y=y, x=x)).status_code == 200
            assert _size(cache) <= bound
        # the most recent tile is still there, the first one was evicted
        assert client.get(URL.format(z=2, y=2, x=3)).headers["x-tile-cache"] == "hit"
        assert client.get(URL.format(z=2, y=1, x=0)).headers["x-tile-cache"] == "miss"
