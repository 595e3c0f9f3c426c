"""A remote store's failure met outside a `/collections/{id}` request (WMS, a process job, an MCP tool):
the same `503 StoreUnavailable` naming the collection as the collection's own paths answer.

The failing collection is the one the request named (`cid`) when it is remote; else the remote collection
whose store location appears in the failure (botocore and aiohttp name the object they could not read).
Only library errors of the store count (botocore, aiohttp, fsspec ...) or an OSError under a named remote
collection: a plain OSError elsewhere stays a bug (500). The answer never holds the library's text.
"""

from __future__ import annotations

from .remote import chain, describe, is_store_error

_LIBRARIES = ("aiohttp", "botocore", "aiobotocore", "fsspec", "s3fs", "gcsfs", "adlfs", "icechunk")


def _is_remote(cc) -> bool:
    return bool(cc.remote or cc.format in ("kerchunk", "icechunk"))


def store_failure(exc: BaseException, named: bool) -> BaseException | None:
    """The store error in `exc` or its causes (a dask job wraps it in its own errors), else None; `named`: the
    request named a remote collection, so any OSError counts."""
    for e in chain(exc):
        if named and is_store_error(e):
            return e
        if (type(e).__module__ or "").startswith(_LIBRARIES) or isinstance(e, TimeoutError):
            return e
    return None


def _location(path: str) -> str:
    """The part of a store URL a library's message repeats: bucket/key without the scheme, glob or slash."""
    tail = path.split("://", 1)[-1].rstrip("/")
    for ch in "*?[":
        tail = tail.split(ch, 1)[0]
    return tail


def unavailable(exc: BaseException, config, cid: str | None = None):
    """The `StoreUnavailable` (503, Retry-After) for `exc`, or None when it is not a remote store's failure.
    `cid`: the collection the request named, if any."""
    from ..errors import StoreUnavailable

    remote = {k: cc for k, cc in config.collections.items() if _is_remote(cc)}
    if not remote:
        return None
    named = cid if cid in remote else None
    failure = store_failure(exc, named is not None)
    if failure is None:
        return None
    if named is None:
        texts = " ".join(str(e) for e in chain(exc))
        hits = [k for k, cc in remote.items() if _location(cc.path) and _location(cc.path) in texts]
        named = max(hits, key=lambda k: len(_location(remote[k].path))) if hits else None
    headers = {"Retry-After": str(int(config.remote.retry_s))}
    if named is None:
        return StoreUnavailable(f"a remote store failed ({type(failure).__name__}); try again later", headers=headers)
    why = describe(remote[named].path, exc) or f"the store of {named!r} failed ({type(failure).__name__})"
    return StoreUnavailable(f"collection {named!r}: {why}; try again later", parameter="collectionId",
                            headers=headers)
