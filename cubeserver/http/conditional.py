"""ETag / Last-Modified / Cache-Control and 304 answers, as pure ASGI middleware.

Pure ASGI (not BaseHTTPMiddleware) so streamed FileResponses stay streamed: only
the first body message is looked at, to hash small complete bodies. Collection-
scoped GETs carry a stable validator (see `validators`) and a matching
If-None-Match is answered 304 without calling the app at all; for other
responses the 304 is decided once the app has answered and its body is dropped.
"""

from __future__ import annotations

import hashlib
import re
import weakref

from starlette.datastructures import Headers, MutableHeaders

from . import codings
from .prefix import route_path
from .validators import (Validator, body_etag, etag_matches, http_date, not_modified_since,
                         source_mtime, stable_validator)

_COLLECTION_PATH = re.compile(r"^/collections/([^/]+)/.+")
_TILE_PATH = re.compile(r"^/collections/[^/]+/(styles/[^/]+/)?(map|coverage)/tiles/[^/]+/\d+/\d+/\d+$")
_HASH_LIMIT = 32 << 20  # bodies up to this size get a content-hash ETag
_NO_CACHE_PREFIXES = ("/jobs",)  # job status changes: always revalidate
_NO_STORE = ("/health", "/ready", "/metrics")  # probes and metrics: a cached "pass" would hide an outage
_KEEP_ON_304 = (b"etag", b"last-modified", b"cache-control", b"vary", b"content-location", b"expires", b"date")


class ConditionalMiddleware:
    def __init__(self, app, ctx):
        self.app = app
        self.ctx = ctx
        self.cache_control = ctx.config.http.cache_control
        self.generation = hashlib.blake2b(ctx.config.model_dump_json().encode(), digest_size=8).hexdigest()
        # id of a collection's config object -> that config as JSON; an entry goes with its object (reload, a job
        # collection removed), so the table does not grow with every collection ever served
        self._config_json: dict[int, str] = {}

    def _config_text(self, config) -> str:
        """The collection's config as JSON, serialised once per config object (a reload replaces it)."""
        text = self._config_json.get(id(config))
        if text is None:
            text = self._config_json[id(config)] = config.model_dump_json()
            weakref.finalize(config, self._config_json.pop, id(config), None)
        return text

    def _path(self, scope) -> str:
        return route_path(scope)

    def _stable(self, scope, headers: Headers, path: str) -> Validator | None:
        m = _COLLECTION_PATH.match(path)
        if not m or path.endswith("/events") or m.group(1) not in self.ctx.registry:  # events: a live stream
            return None
        c = self.ctx.registry.get(m.group(1))
        source = self.ctx.config.resolve(c.config.path)
        # a remote or virtual source: its objects' own modification time (the same in every server process)
        mtime = (getattr(c, "modified", None) or c.opened_at) if isinstance(source, str) or \
            c.config.format in ("kerchunk", "icechunk") else source_mtime(source)
        if mtime is None:
            return None
        if c.config.locations and c.config.locations in self.ctx.registry:  # EDR locations come from there
            other = source_mtime(self.ctx.config.resolve(self.ctx.registry.get(c.config.locations).config.path))
            mtime = max(mtime, other or 0.0)
        generation = self.generation + self._config_text(c.config) + getattr(c, "version", "")
        coding = codings.choose(headers.get("accept-encoding", ""))
        return stable_validator(generation, path, scope.get("query_string", b""), headers, coding, mtime,
                                strong=bool(_TILE_PATH.match(path)))

    def _cache_control(self, path: str) -> str:
        if path in _NO_STORE:
            return "no-store"
        return "no-cache" if path.startswith(_NO_CACHE_PREFIXES) else self.cache_control

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        path = self._path(scope)
        stable = self._stable(scope, headers, path)
        inm = headers.get("if-none-match")
        cache_control = self._cache_control(path)
        negotiated = "/zarr/" not in path  # everything but Zarr keys can answer in several formats by Accept
        if stable is not None and inm and etag_matches(inm, stable.etag):
            vary = b"Accept, Accept-Encoding" if negotiated else b"Accept-Encoding"
            await _send_304(send, [(b"etag", stable.etag.encode()), (b"last-modified", http_date(stable.mtime).encode()),
                                   (b"cache-control", cache_control.encode()), (b"vary", vary)])
            return
        await self.app(scope, receive,
                       _Responder(send, headers, stable, cache_control, scope["method"], negotiated).send)


class _Responder:
    """Holds the response start until the first body message, then adds validators or answers 304."""

    def __init__(self, send, request_headers: Headers, stable: Validator | None, cache_control: str, method: str,
                 negotiated: bool = True):
        self._send = send
        self.negotiated = negotiated
        self.request = request_headers
        self.stable = stable
        self.cache_control = cache_control
        self.method = method
        self.start = None
        self.started = False
        self.dropping = False

    async def send(self, message):
        if message["type"] == "http.response.start":
            self.start = message
            return
        if self.started:
            if not self.dropping:
                await self._send(message)
            return
        self.started = True  # first message after the start: a body, or e.g. a pathsend
        start = self.start
        if start["status"] == 200:
            headers = MutableHeaders(scope=start)
            self._validate(headers, message)
            headers.setdefault("cache-control", self.cache_control)
            vary = [v.strip().lower() for v in headers.get("vary", "").split(",")]
            if self.negotiated and "accept" not in vary and "*" not in vary:
                # the format follows Accept: a shared cache must not give the HTML page to a script
                headers["vary"] = f"{headers['vary']}, Accept" if headers.get("vary") else "Accept"
            if self._not_modified(headers):
                self.dropping = True  # the rest of a streamed body is read from the app and discarded
                keep = [(k, v) for k, v in start["headers"] if k.lower() in _KEEP_ON_304]
                await _send_304(self._send, keep)
                return
        elif start["status"] == 304:
            MutableHeaders(scope=start).setdefault("cache-control", self.cache_control)
        await self._send(start)
        await self._send(message)

    def _validate(self, headers: MutableHeaders, message) -> None:
        if self.stable is not None:
            headers["etag"] = self.stable.etag  # replaces e.g. a temp file's ETag by the stable one
            headers["last-modified"] = http_date(self.stable.mtime)
            return
        body = message.get("body", b"") if message["type"] == "http.response.body" else b""
        complete = not message.get("more_body", False)
        if "etag" not in headers and complete and body and len(body) <= _HASH_LIMIT:
            headers["etag"] = body_etag(body)

    def _not_modified(self, headers: MutableHeaders) -> bool:
        inm = self.request.get("if-none-match")
        if inm is not None:
            return "etag" in headers and etag_matches(inm, headers["etag"])
        ims = self.request.get("if-modified-since")
        return bool(ims and "last-modified" in headers and not_modified_since(ims, headers["last-modified"]))


async def _send_304(send, headers: list) -> None:
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
