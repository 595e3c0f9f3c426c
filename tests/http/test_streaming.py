"""The middleware at the ASGI level: streamed bodies stay streamed (compressed as they flow), binary bodies are
never compressed."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

from cubeserver.http.conditional import ConditionalMiddleware
from cubeserver.http.compression import CompressionMiddleware, compressible
from cubeserver.http.head import HeadMiddleware

LINE = b"lon,lat,value\n" * 200


def _mini_app(tmp_file):
    async def csv_stream(request):
        async def parts():
            for _ in range(3):
                yield LINE
        return StreamingResponse(parts(), media_type="text/csv")

    async def netcdf(request):
        return FileResponse(tmp_file, media_type="application/x-netcdf")

    async def png(request):
        return Response(b"\x89PNG" + b"\0" * 5000, media_type="image/png")

    async def job(request):
        return Response(b'{"status": "running"}', media_type="application/json")

    return Starlette(routes=[Route("/csv", csv_stream), Route("/file.nc", netcdf), Route("/q.png", png),
                             Route("/jobs/1", job)])


@pytest.fixture()
def stack(app, tmp_path):
    path = tmp_path / "x.nc"
    path.write_bytes(b"CDF\x01" + bytes(range(256)) * 200)
    inner = _mini_app(str(path))
    return HeadMiddleware(ConditionalMiddleware(CompressionMiddleware(inner, min_size=100), ctx=app.state.ctx)), path


def call(asgi, path: str, headers: dict | None = None, method: str = "GET") -> list[dict]:
    messages = []
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "scheme": "http", "server": ("test", 80), "http_version": "1.1",
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}

    sent = []

    async def receive():
        if not sent:
            sent.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected (Starlette listens for a disconnect)

    async def send(message):
        messages.append(message)

    asyncio.run(asgi(scope, receive, send))
    return messages


def _headers(messages) -> dict:
    return {k.decode(): v.decode() for k, v in messages[0]["headers"]}


def _body(messages) -> bytes:
    return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")


def test_stream_stays_streamed(stack):
    asgi, _ = stack
    msgs = call(asgi, "/csv")
    bodies = [m for m in msgs if m["type"] == "http.response.body"]
    assert len([m for m in bodies if m.get("body")]) == 3, "each part goes out as it comes"
    assert _body(msgs) == LINE * 3


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_streamed_text_is_compressed_as_it_streams(stack, coding):
    """Each streamed part goes out compressed and flushed as it comes; the whole decodes to the original."""
    from .test_codings import decode

    asgi, _ = stack
    msgs = call(asgi, "/csv", {"Accept-Encoding": coding})
    h = _headers(msgs)
    assert h["content-encoding"] == coding and "content-length" not in h
    parts = [m["body"] for m in msgs if m["type"] == "http.response.body" and m.get("body")]
    assert len(parts) >= 3, "each part goes out as it comes"
    assert decode(coding, parts[0])[: len(LINE)] == LINE, "the first part decodes on its own (flushed)"
    assert decode(coding, _body(msgs)) == LINE * 3


def test_streamed_text_without_accept_encoding_is_plain(stack):
    asgi, _ = stack
    msgs = call(asgi, "/csv")
    assert "content-encoding" not in _headers(msgs)
    assert len([m for m in msgs if m["type"] == "http.response.body" and m.get("body")]) == 3
    assert _body(msgs) == LINE * 3


def test_file_response_is_not_gzipped_and_intact(stack):
    asgi, path = stack
    msgs = call(asgi, "/file.nc", {"Accept-Encoding": "gzip"})
    h = _headers(msgs)
    assert msgs[0]["status"] == 200 and "content-encoding" not in h
    assert _body(msgs) == path.read_bytes()
    assert int(h["content-length"]) == path.stat().st_size


def test_png_is_not_gzipped(stack):
    asgi, _ = stack
    h = _headers(call(asgi, "/q.png", {"Accept-Encoding": "gzip"}))
    assert "content-encoding" not in h and "etag" in h


def test_jobs_are_always_revalidated(stack):
    asgi, _ = stack
    assert _headers(call(asgi, "/jobs/1"))["cache-control"] == "no-cache"


def test_conditional_on_a_file_drops_the_body(stack):
    asgi, _ = stack
    etag = _headers(call(asgi, "/file.nc"))["etag"]
    msgs = call(asgi, "/file.nc", {"If-None-Match": etag})
    assert msgs[0]["status"] == 304 and _body(msgs) == b""


def test_head_keeps_headers_only(stack):
    asgi, path = stack
    msgs = call(asgi, "/file.nc", method="HEAD")
    assert msgs[0]["status"] == 200 and _body(msgs) == b""
    assert int(_headers(msgs)["content-length"]) == path.stat().st_size


@pytest.mark.parametrize("media,ok", [
    ("application/json", True), ("application/geo+json", True), ("application/prs.coverage+json", True),
    ("text/html; charset=utf-8", True), ("text/csv", True), ("application/vnd.oai.openapi+json;version=3.0", True),
    ("application/octet-stream", False), ("application/x-netcdf", False), ("image/tiff; application=geotiff", False),
    ("image/png", False), ("", False),
])
def test_compressible_types(media, ok):
    assert compressible(media) is ok


def test_coverages_stream_big_covjson_like_edr(client, monkeypatch):
    """Coverages uses the EDR streamer: same document as in memory, no Content-Length; compressed as it streams."""
    from cubeserver.encode import covjson_stream

    params = {"subset": "Lat(-30:30),Lon(-60:0)", "properties": "SST,AIRT", "f": "covjson"}
    whole = client.get("/collections/coads/coverage", params=params)
    monkeypatch.setattr(covjson_stream, "STREAM_MIN_VALUES", 1)
    streamed = client.get("/collections/coads/coverage", params=params, headers={"Accept-Encoding": "gzip"})
    assert streamed.status_code == 200 and "content-length" not in streamed.headers
    assert streamed.headers["content-encoding"] == "gzip"  # httpx decodes it for .json()
    assert streamed.headers["content-disposition"] == whole.headers["content-disposition"]
    assert streamed.json() == whole.json()
