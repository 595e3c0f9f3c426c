"""Memoize functions of pyproj CRS objects by object identity.

`functools.lru_cache` keys on `hash(crs)`, and pyproj hashes a CRS by writing its WKT (~0.1-0.2 ms
a call): per request, with the same few CRS objects (a collection's axes, `parse_crs`'s cached
answers), that hashing cost more than the cached work. `by_identity` looks the objects up by
`id()` first (holding them, so an id is never reused while its entry lives) and falls back to the
wrapped function, which may itself be an `lru_cache` sharing results between equal CRSs.
"""

from __future__ import annotations

import functools

MAX_ENTRIES = 1024  # distinct argument tuples; the memo is cleared when full (CRS objects are few and long-lived)


def by_identity(fn):
    """Wrap `fn(*crs_args)` (positional, hashable-or-not arguments) with an identity-keyed memo."""
    memo: dict[tuple, tuple] = {}

    @functools.wraps(fn)
    def wrapper(*args):
        key = tuple(map(id, args))
        hit = memo.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], args)):
            return hit[1]
        value = fn(*args)
        if len(memo) >= MAX_ENTRIES:
            memo.clear()
        memo[key] = (args, value)
        return value

    def cache_clear():
        memo.clear()
        getattr(fn, "cache_clear", lambda: None)()

    wrapper.cache_clear = cache_clear
    return wrapper
