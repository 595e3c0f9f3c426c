"""Content codings: which one a client accepts (RFC 9110 12.5.3) and the compressors for each.

Server preference when the client's q-values tie: zstd, then br, then gzip (zstd compresses JSON
about as well as gzip -6 at several times its speed; browsers and httpx send all three). The
levels follow the size of the answer: small answers get the stronger level (cheap at that size,
and the bytes matter on slow links), large and streamed ones the fast level, so compressing never
costs more server time than the bytes it saves take to send on a LAN. Output is deterministic
(gzip mtime 0), so the same body gives the same ETag.
Libraries: `zstandard` and `brotli` (both on PyPI and conda-forge); either missing just drops that
coding from the offer.
"""

from __future__ import annotations

import gzip as _gzip
import zlib

try:
    import zstandard
except ImportError:  # pragma: no cover - an optional speed-up
    zstandard = None
try:
    import brotli
except ImportError:  # pragma: no cover
    brotli = None

SERVER_ORDER = [c for c, lib in (("zstd", zstandard), ("br", brotli), ("gzip", _gzip)) if lib is not None]
LARGE = 128 << 10  # bytes: above this, the fast level


def choose(accept_encoding: str) -> str | None:
    """The coding to use for a client's Accept-Encoding, or None (identity).

    Highest q wins, ties broken by SERVER_ORDER; `*` stands for every coding not named;
    `q=0` refuses a coding. Malformed q-values count as refusals.
    """
    named: dict[str, float] = {}
    star = None
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        coding = coding.strip()
        if not coding:
            continue
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding == "*":
            star = q
        elif coding == "x-gzip":
            named["gzip"] = q
        else:
            named[coding] = q
    best, best_q = None, 0.0
    for coding in SERVER_ORDER:
        q = named.get(coding, star if star is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    return best


def compress(coding: str, body: bytes) -> bytes:
    """One whole body, at the level its size calls for."""
    large = len(body) > LARGE
    if coding == "zstd":
        return zstandard.ZstdCompressor(level=1 if large else 3).compress(body)
    if coding == "br":
        return brotli.compress(body, quality=3 if large else 5)
    return _gzip.compress(body, compresslevel=1 if large else 6, mtime=0)


class StreamCompressor:
    """Incremental compression of a streamed body: `chunk(data)` per message, `finish()` at the end.

    Each chunk is flushed to a block boundary so the client can decode what has arrived (the
    answers streamed are large grids sent slab by slab, so the flush costs little); fast levels.
    """

    def __init__(self, coding: str):
        self.coding = coding
        if coding == "zstd":
            self._z = zstandard.ZstdCompressor(level=1).compressobj()
        elif coding == "br":
            self._z = brotli.Compressor(quality=3)
        else:  # gzip framing: wbits 31
            self._z = zlib.compressobj(1, zlib.DEFLATED, 31)

    def chunk(self, data: bytes) -> bytes:
        if self.coding == "zstd":
            return self._z.compress(data) + self._z.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        if self.coding == "br":
            return self._z.process(data) + self._z.flush()
        return self._z.compress(data) + self._z.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        if self.coding == "zstd":
            return self._z.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
        if self.coding == "br":
            return self._z.finish()
        return self._z.flush(zlib.Z_FINISH)
