"""Request limits checked before any router runs: URL length (414), body size (413) and the
media type of request bodies (415), each an OGC exception naming what is allowed.

The body is counted while it is read, so a client that lies about (or omits) Content-Length
still cannot make the server hold more than `limits.max_body_bytes`; a declared length over the
limit is refused before a byte of the body is read. Every body this API takes is JSON (OGC API -
Processes 1.0, Requirement /req/core/process-execute-request: an execute request is JSON), so
any other Content-Type on POST is a 415 rather than a confusing parse error (PUT and PATCH,
which no route takes, reach the router and get its 405).
"""

from __future__ import annotations

from ..errors import APIError, TooLarge, UnsupportedMediaType, URITooLong, _response  # noqa: F401 - re-exported


def is_json(content_type: str) -> bool:
    """application/json or any `+json` structured syntax suffix (RFC 6839), parameters ignored."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class RequestLimitsMiddleware:
    """Pure ASGI; `max_url` counts path plus query string in bytes, `max_body` body bytes."""

    def __init__(self, app, max_url: int, max_body: int):
        self.app = app
        self.max_url = max_url
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        err = self._check_head(scope)
        if err is not None:
            return await _response(err)(scope, receive, send)
        seen = 0
        limit = self.max_body

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _too_large(limit)
            return message

        await self.app(scope, counted_receive, send)

    def _check_head(self, scope) -> APIError | None:
        url = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string") or b"")
        if url > self.max_url:
            return URITooLong(f"the request URL has {url} bytes; at most {self.max_url} are allowed "
                              "(limits.max_url_bytes): send large geometries to a process in a POST body instead",
                              parameter="url")
        if scope["method"] != "POST":  # the only method with a body here; PUT/PATCH get the router's 405
            return None
        headers = dict(scope.get("headers") or ())
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                return APIError("Content-Length is not a number", parameter="Content-Length")
            if declared > self.max_body:
                return _too_large(self.max_body)
            if declared == 0:
                return None
        elif b"transfer-encoding" not in headers:  # neither length nor chunks: no body (curl -X POST, no -d)
            return None
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if not is_json(content_type):
            return UnsupportedMediaType(f"request bodies must be JSON (application/json), not {content_type or 'untyped'}",
                                        parameter="Content-Type")
        return None


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"the request body is larger than {limit} bytes (limits.max_body_bytes)", parameter="body")
