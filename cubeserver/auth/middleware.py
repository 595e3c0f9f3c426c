"""The one place requests are authenticated and areas are guarded (pure ASGI, before any router).

Order of checks: a presented credential must be valid (401 otherwise, even on open paths, so a
client learns its key is wrong); then the request's area (`area_of`) decides whether an
identity (401 with `WWW-Authenticate`) or a role (403) is needed. Preflight OPTIONS requests
pass (browsers send them without credentials). The identity is put in the request's context
for the registry (private collections) and the job manager (owners).
"""

from __future__ import annotations

import asyncio
import re

from ..errors import _response
from ..http.prefix import route_path
from . import identity as ident
from .credentials import Authenticator, Forbidden, Unauthorized, challenge, presented
from .settings import AuthConfig

_EXECUTE = re.compile(r"^/processes/[^/]+/execution/?$")


def area_of(method: str, path: str) -> str | None:
    """processes (executing), jobs (/jobs...), data (/collections...) or None (open metadata)."""
    if method == "POST" and _EXECUTE.match(path):
        return "processes"
    if path == "/jobs" or path.startswith("/jobs/"):
        return "jobs"
    if path == "/collections" or path.startswith("/collections/"):
        return "data"
    return None


class AuthMiddleware:
    def __init__(self, app, cfg: AuthConfig, authenticator: Authenticator):
        self.app = app
        self.cfg = cfg
        self.authenticator = authenticator

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            return await self.app(scope, receive, send)
        try:
            who = await self._identify(dict(scope.get("headers") or ()))
            self._authorize(who, area_of(scope["method"], route_path(scope)))
        except Unauthorized as err:
            err.headers = err.headers or challenge(self.cfg.realm)
            return await _response(err, headers=err.headers)(scope, receive, send)
        except Exception as err:  # Forbidden, IdentityProviderDown: OGC exceptions with their own status
            if not hasattr(err, "body"):
                raise
            return await _response(err, headers=getattr(err, "headers", None))(scope, receive, send)
        scope.setdefault("state", {})["identity"] = who
        token = ident.set_current(who)
        try:
            await self.app(scope, receive, send)
        finally:
            ident.reset(token)

    async def _identify(self, headers: dict) -> ident.Identity:
        credential = presented(headers)
        if credential is None:
            return ident.ANONYMOUS
        if self.authenticator.looks_like_jwt(credential):
            return await asyncio.to_thread(self.authenticator.identify, credential)  # may fetch the JWKS
        return self.authenticator.identify(credential)

    def _authorize(self, who: ident.Identity, area: str | None) -> None:
        if area is None:
            return
        roles = self.cfg.roles_for(area)
        if roles is None:
            return
        if not who.authenticated:
            raise Unauthorized(f"{area}: sign in (an API key or a bearer token) to use this", parameter="Authorization")
        if roles and not who.has_any(roles) and not who.has_any([self.cfg.admin_role]):
            raise Forbidden(f"{area}: needs one of the roles {', '.join(roles)}", parameter="Authorization")
