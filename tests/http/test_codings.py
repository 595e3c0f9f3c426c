"""Content codings: negotiation (RFC 9110 12.5.3), round trips, ETags per coding, real answers decoded by httpx."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
import zstandard

from cubeserver.http import codings


def decode(coding: str, data: bytes) -> bytes:
    """Independent decoders; a flushed but unfinished stream decodes as far as it goes."""
    if coding == "gzip":
        return zlib.decompressobj(31).decompress(data)
    if coding == "br":
        d = brotli.Decompressor()
        out = piece = d.process(data)
        while piece:  # brotli 1.2 hands large outputs over in pieces
            piece = d.process(b"")
            out += piece
        return out
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


@pytest.mark.parametrize("header,expected", [
    ("", None),
    ("identity", None),
    ("gzip", "gzip"),
    ("x-gzip", "gzip"),
    ("gzip, deflate", "gzip"),                        # requests, OWSLib
    ("gzip, deflate, br", "br"),                      # httpx with brotli
    ("gzip, deflate, br, zstd", "zstd"),              # Chromium, httpx with zstandard
    ("gzip;q=1.0, zstd;q=0.5", "gzip"),               # the client's q-values win
    ("zstd;q=0, br;q=0, gzip", "gzip"),
    ("gzip;q=0", None),
    ("*", "zstd"),
    ("*;q=0.1, gzip;q=0.5", "gzip"),
    ("br;q=0, *", "zstd"),
    ("GZIP", "gzip"),
    ("gzip;q=abc", None),                            # a malformed q refuses
    ("deflate", None),                               # not offered (ambiguous framing in the wild)
])
def test_choose(header, expected):
    assert codings.choose(header) == expected


BODY = b'{"values":[' + b",".join(str(i * 0.25).encode() for i in range(60000)) + b"]}"


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
@pytest.mark.parametrize("size", [2000, len(BODY)])  # strong level below codings.LARGE, fast level above
def test_compress_round_trips_and_saves(coding, size):
    body = BODY[:size]
    out = codings.compress(coding, body)
    assert decode(coding, out) == body
    assert len(out) < len(body) / 2
    assert codings.compress(coding, body) == out, "deterministic: same body, same bytes (and ETag)"


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_stream_compressor_parts_decode_incrementally(coding):
    s = codings.StreamCompressor(coding)
    parts = [BODY[i:i + 50000] for i in range(0, len(BODY), 50000)]
    out = [s.chunk(p) for p in parts]
    assert decode(coding, out[0]) == parts[0], "the first message is decodable before the rest arrives"
    whole = b"".join(out) + s.finish()
    assert decode(coding, whole) == BODY
    if coding == "gzip":
        assert gzip.decompress(whole) == BODY  # a complete gzip member


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_json_answer_in_each_coding(client, coding):
    """The same CoverageJSON in every coding (httpx decodes br and zstd itself), distinct ETags, 304 per coding."""
    params = {"coords": "POLYGON((-40 20,-10 20,-10 50,-40 50,-40 20))", "parameter-name": "SST"}
    plain = client.get("/collections/coads/area", params=params, headers={"Accept-Encoding": "identity"})
    r = client.get("/collections/coads/area", params=params, headers={"Accept-Encoding": coding})
    assert plain.status_code == r.status_code == 200
    assert "content-encoding" not in plain.headers
    assert r.headers["content-encoding"] == coding and "accept-encoding" in r.headers["vary"].lower()
    assert r.json() == plain.json()
    assert r.headers["etag"] != plain.headers["etag"]
    again = client.get("/collections/coads/area", params=params,
                       headers={"Accept-Encoding": coding, "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("url", ["/conformance?f=json", "/collections/coads/position?coords=POINT(-30 40)"
                                 "&datetime=2000-01-16T06:00:00Z", "/collections/coads/position?coords=POINT(-30 40)",
                                 "/collections?f=json"])
def test_compressed_only_from_the_minimum_size(client, url):
    """Under `http.gzip_min_size` bytes the frame would outweigh the saving: sent as is."""
    minimum = client.app.state.ctx.config.http.gzip_min_size
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    r = client.get(url, headers={"Accept-Encoding": "zstd"})
    assert plain.status_code == r.status_code == 200
    assert ("content-encoding" in r.headers) == (len(plain.content) >= minimum), len(plain.content)
    assert r.content == plain.content


def test_binary_answers_are_not_compressed(client):
    r = client.get("/collections/coads/coverage", params={"subset": "Lat(20:50),Lon(-60:-10)", "f": "netcdf"},
                   headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert r.status_code == 200 and "content-encoding" not in r.headers and r.content[:3] in (b"CDF", b"\x89HD")
