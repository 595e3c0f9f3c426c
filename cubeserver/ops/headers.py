"""Security headers on every answer, and a Content-Security-Policy on HTML pages.

`nosniff` stops browsers from running a data answer as script; frame options and the CSP's
`frame-ancestors` stop click-jacking of the HTML pages; `Referrer-Policy` keeps query strings
(which may hold tokens) out of other sites' logs. The CSP allows only this server: every script,
stylesheet, font and image of the pages (Leaflet, Swagger UI, uPlot, the Natural Earth base layer)
is served by the server itself (cubeserver.viewer), and no page has an inline script or style.
`data:`/`blob:` images are the libraries' own icons and canvases, not network requests.
`http.content_security_policy` in the config replaces it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders

from ..errors import BadRequest, _response


def default_csp() -> str:
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "frame-ancestors 'self'",
        "base-uri 'self'",
        "form-action 'self'",
    ])


class SecurityHeadersMiddleware:
    """Pure ASGI: adds the headers to each response start, the CSP only to text/html."""

    def __init__(self, app, csp: str):
        self.app = app
        self.csp = csp

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("X-Frame-Options", "SAMEORIGIN")
                h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                if h.get("content-type", "").startswith("text/html"):
                    h.setdefault("Content-Security-Policy", self.csp)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def host_allowed(host: str, allowed: list[str]) -> bool:
    """`host` (port stripped) equals an entry, or ends with `.example.org` for an entry `*.example.org`."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower()
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern == "*" or name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:])):
            return True
    return False


class TrustedHostMiddleware:
    """Pure ASGI: a request whose `Host` is not in `http.trusted_hosts` is a 400 before any router
    runs, so no link or `Location` can reflect an attacker's host (RFC 9110 7.2; cache poisoning)."""

    def __init__(self, app, allowed: list[str]):
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            host = dict(scope.get("headers") or ()).get(b"host", b"").decode("latin-1")
            if not host_allowed(host, self.allowed):
                err = BadRequest("the Host header is not one this server answers for (see http.trusted_hosts)",
                                 parameter="Host")
                return await _response(err)(scope, receive, send)
        await self.app(scope, receive, send)


def install(app, ctx) -> None:
    cfg = ctx.config.http
    app.add_middleware(SecurityHeadersMiddleware, csp=cfg.content_security_policy or default_csp())
    if cfg.trusted_hosts != ["*"]:
        app.add_middleware(TrustedHostMiddleware, allowed=cfg.trusted_hosts)
