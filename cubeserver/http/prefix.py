"""Serving under a sub-path behind a reverse proxy (`https://example.org/cubeserver/...`).

Two ways, both ending in the ASGI `root_path` that every link is built from (`AppContext.base_url`):
- the server is told its root path (uvicorn `--root-path`, the image's CUBESERVER_ROOT_PATH), or
- the proxy says it per request with `X-Forwarded-Prefix` (Traefik's StripPrefix, Spring and
  ingress-nginx conventions), believed only with `http.forwarded_prefix: true`: a client
  reaching the server directly could otherwise put any prefix into the links of cached answers.
Either way routes and path-based checks (auth areas, rate limits, Allow) use `route_path`: the
path below the root, never the raw path that carries the prefix.
"""

from __future__ import annotations

import re

from ..errors import BadRequest, _response

HEADER = b"x-forwarded-prefix"
# one or more path segments of RFC 3986 pchar, no empty or dot segments, no query or fragment
_PREFIX = re.compile(r"^(/(?!\.{1,2}(?:/|$))[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+/?$")


def route_path(scope) -> str:
    """The request path below the app's root path (`/collections/x` for `/cubeserver/collections/x`
    under root path `/cubeserver`): what routes match, whichever way the root path was given."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root):] or "/"
    return path


class ForwardedPrefixMiddleware:
    """Pure ASGI, outermost: a request with `X-Forwarded-Prefix: /p` is served with root path `/p`
    (before any root path the server itself has), whether the proxy stripped `/p` from the path or
    not. A prefix that is not a plain absolute path is a 400 naming the header."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            value = next((v for k, v in scope.get("headers") or () if k == HEADER), None)
            if value is not None:
                prefix = value.decode("latin-1").split(",")[0].strip()
                if prefix and prefix != "/":
                    if not _PREFIX.match(prefix):
                        err = BadRequest("X-Forwarded-Prefix must be an absolute URL path such as /cubeserver",
                                         parameter="X-Forwarded-Prefix")
                        return await _response(err)(scope, receive, send)
                    scope = _prefixed(scope, prefix.rstrip("/"))
        await self.app(scope, receive, send)


def _prefixed(scope, prefix: str) -> dict:
    scope = dict(scope)
    root, path = scope.get("root_path", ""), scope.get("path", "")
    scope["root_path"] = prefix + root
    if not (path == prefix or path.startswith(prefix + "/")):  # the proxy stripped the prefix
        scope["path"] = prefix + path
        raw = scope.get("raw_path")
        if raw is not None:
            scope["raw_path"] = prefix.encode("latin-1") + raw
    return scope
