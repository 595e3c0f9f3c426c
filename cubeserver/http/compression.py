"""Compression of text and JSON answers (zstd, br or gzip, as the client accepts), pure ASGI middleware.

Only textual media types are compressed: Zarr chunks are already Blosc-compressed and NetCDF,
GeoTIFF and images are binary, where compression costs CPU for little. Bodies under `min_size`
go as they are (the frame would outweigh the saving). Whole bodies are compressed at a level
chosen by size (codings.compress); streamed bodies (large CoverageJSON grids, CSV) are compressed
message by message at a fast level, each message flushed, so they keep streaming. Compression of
more than OFFLOAD bytes runs in a worker thread (zlib, zstd and brotli release the GIL), so the
event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

from anyio import to_thread
from starlette.datastructures import Headers, MutableHeaders

from . import codings

_TEXTUAL = ("application/json", "application/geo+json", "application/xml", "application/javascript",
            "application/vnd.oai.openapi+json", "application/prs.coverage+json", "application/schema+json")
OFFLOAD = 64 << 10  # bytes


def compressible(content_type: str) -> bool:
    mt = content_type.split(";")[0].strip().lower()
    if mt == "text/event-stream":  # Server-Sent Events: each event must reach the client when sent
        return False
    return mt.startswith("text/") or mt in _TEXTUAL or mt.endswith("+json") or mt.endswith("+xml")


def _add_vary(headers: MutableHeaders) -> None:
    vary = headers.get("vary", "")
    if "accept-encoding" not in vary.lower():
        headers["vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"


async def _run(fn, *args):
    size = len(args[-1]) if args and isinstance(args[-1], (bytes, bytearray, memoryview)) else 0
    return await to_thread.run_sync(fn, *args) if size > OFFLOAD else fn(*args)


class CompressionMiddleware:
    """Compresses textual answers with the coding `codings.choose` picks from Accept-Encoding."""

    def __init__(self, app, min_size: int = 1024):
        self.app = app
        self.min_size = min_size

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        coding = None
        if scope["method"] != "HEAD":
            coding = codings.choose(Headers(scope=scope).get("accept-encoding", ""))
        await self.app(scope, receive, _Compressor(send, coding, self.min_size).send)


class _Compressor:
    def __init__(self, send, coding: str | None, min_size: int):
        self._send = send
        self.coding = coding
        self.min_size = min_size
        self.start = None
        self.decided = False
        self.stream: codings.StreamCompressor | None = None

    async def send(self, message):
        if message["type"] == "http.response.start":
            self.start = message
            return
        if self.stream is not None:
            return await self._stream(message)
        if self.decided:
            return await self._send(message)
        self.decided = True
        start = self.start
        headers = MutableHeaders(scope=start)
        textual = compressible(headers.get("content-type", "")) and start["status"] not in (204, 304)
        if textual:
            _add_vary(headers)
        if not (textual and self.coding) or "content-encoding" in headers or message["type"] != "http.response.body":
            await self._send(start)
            return await self._send(message)
        body, more = message.get("body", b""), message.get("more_body", False)
        if not more:
            if len(body) >= self.min_size:
                body = await _run(codings.compress, self.coding, body)
                headers["content-encoding"] = self.coding
                headers["content-length"] = str(len(body))
            await self._send(start)
            return await self._send({**message, "body": body})
        self.stream = codings.StreamCompressor(self.coding)  # streamed: compressed as it flows
        headers["content-encoding"] = self.coding
        if "content-length" in headers:
            del headers["content-length"]
        await self._send(start)
        await self._stream(message)

    async def _stream(self, message):
        if message["type"] != "http.response.body":
            return await self._send(message)
        body, more = message.get("body", b""), message.get("more_body", False)
        out = await _run(self.stream.chunk, bytes(body)) if body else b""
        if not more:
            out += self.stream.finish()
        if out or not more:
            await self._send({"type": "http.response.body", "body": out, "more_body": more})
