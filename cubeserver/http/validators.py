"""Cache validators: ETags and Last-Modified dates, and matching them against conditional requests.

Responses about a collection's data (`/collections/{id}/...`: coverages, EDR queries,
Zarr chunks, items) get a *stable* weak ETag computed from the request alone plus
the source file's modification time, so a repeated conditional GET is answered 304
before any data is read. Other small answers get an ETag hashing their body.
"""

from __future__ import annotations

from functools import lru_cache

import glob
import os
import stat
import hashlib
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from starlette.datastructures import Headers

from .. import __version__

# request headers that change the answer besides the URL (format negotiation, links' base URL)
_KEY_HEADERS = ("accept", "host", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-prefix")


@dataclass(frozen=True)
class Validator:
    etag: str
    mtime: float  # seconds since the epoch, for Last-Modified


def body_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def source_mtime(path: Path) -> float | None:
    """Modification time of a collection's source: a file, a glob of files, or a Zarr directory.

    For a directory only the directory and its top-level metadata are looked at, so a
    store rewritten chunk by chunk without touching its metadata is not noticed.
    """
    text = str(path)
    try:
        if any(ch in text for ch in "*?["):
            files = glob.glob(text)
            return max(Path(f).stat().st_mtime for f in files) if files else None
        st = os.stat(text)
        times = [st.st_mtime]
        if stat.S_ISDIR(st.st_mode):
            for name in (".zmetadata", "zarr.json", ".zgroup", ".zattrs"):
                try:
                    times.append(os.stat(os.path.join(text, name)).st_mtime)
                except FileNotFoundError:
                    continue
        return max(times)
    except OSError:
        return None


def stable_validator(generation: str, path: str, query: bytes, headers: Headers, coding: str | None,
                     mtime: float, strong: bool = False) -> Validator:
    """ETag of a collection-scoped GET: same request, same source, same server config, same content
    coding (http/codings.choose: zstd, br, gzip or None) -> same tag.

    Weak unless `strong`: tiles are byte-for-byte the same for the same request and source (no
    timestamps, fixed encoders), so they carry a strong tag (RFC 9110 8.8.3), which caches and
    range requests may use for more than revalidation."""
    h = hashlib.blake2b(digest_size=16)
    for part in (__version__, generation, path, query.decode("latin-1"), coding or "identity",
                 *(headers.get(k, "") for k in _KEY_HEADERS), repr(mtime)):
        h.update(part.encode() + b"\0")
    return Validator(etag=f'{"" if strong else "W/"}"{h.hexdigest()}"', mtime=mtime)


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison, as If-None-Match requires (RFC 9110 13.1.2)."""
    if if_none_match.strip() == "*":
        return True
    want = _opaque(etag)
    return any(_opaque(t) == want for t in if_none_match.split(","))


@lru_cache(maxsize=1024)
def http_date(ts: float) -> str:
    """An RFC 9110 IMF-fixdate (Last-Modified, Date); remembered: the same source times are formatted per request."""
    return formatdate(ts, usegmt=True)


def not_modified_since(if_modified_since: str, last_modified: str) -> bool:
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False
