"""gzip for text and JSON answers above a size, as pure ASGI middleware.

Only textual media types are compressed: Zarr chunks are already Blosc-compressed
and NetCDF, GeoTIFF and PNG are binary, so gzip would cost CPU for nothing. Streamed bodies (large CoverageJSON grids)
are sent uncompressed: gzip would cost ~10x the encoding time on the server and delay the
first byte; clients wanting a compact large answer ask for NetCDF.
"""

from __future__ import annotations

import gzip

from starlette.datastructures import Headers, MutableHeaders

from .validators import accepts_gzip

_TEXTUAL = ("application/json", "application/geo+json", "application/xml", "application/javascript",
            "application/vnd.oai.openapi+json", "application/prs.coverage+json", "application/schema+json")
_LEVEL = 6


def compressible(content_type: str) -> bool:
    mt = content_type.split(";")[0].strip().lower()
    return mt.startswith("text/") or mt in _TEXTUAL or mt.endswith("+json") or mt.endswith("+xml")


def _add_vary(headers: MutableHeaders) -> None:
    vary = headers.get("vary", "")
    if "accept-encoding" not in vary.lower():
        headers["vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"


class GzipMiddleware:
    def __init__(self, app, min_size: int = 1024):
        self.app = app
        self.min_size = min_size

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        ok = scope["method"] != "HEAD" and accepts_gzip(Headers(scope=scope).get("accept-encoding", ""))
        await self.app(scope, receive, _Gzipper(send, ok, self.min_size).send)


class _Gzipper:
    def __init__(self, send, client_accepts: bool, min_size: int):
        self._send = send
        self.accepts = client_accepts
        self.min_size = min_size
        self.start = None
        self.decided = False

    async def send(self, message):
        if message["type"] == "http.response.start":
            self.start = message
            return
        if self.decided:
            return await self._send(message)
        self.decided = True
        start = self.start
        headers = MutableHeaders(scope=start)
        textual = compressible(headers.get("content-type", "")) and start["status"] not in (204, 304)
        if textual:
            _add_vary(headers)
        if not (textual and self.accepts) or "content-encoding" in headers or message["type"] != "http.response.body":
            await self._send(start)
            return await self._send(message)
        body, more = message.get("body", b""), message.get("more_body", False)
        if not more:
            if len(body) >= self.min_size:
                body = gzip.compress(body, compresslevel=_LEVEL, mtime=0)  # mtime=0: same bytes, same ETag
                headers["content-encoding"] = "gzip"
                headers["content-length"] = str(len(body))
            await self._send(start)
            return await self._send({**message, "body": body})
        await self._send(start)  # streamed: passed through as is
        await self._send(message)
