"""Credentials to identities: API keys from the config, and OpenID Connect bearer JWTs.

A credential comes as `Authorization: Bearer <key or JWT>` or `X-API-Key: <key>`. Keys are
compared in constant time against every configured key. A JWT is verified with PyJWT against
the issuer's JWKS (signature, `iss`, `aud` when configured, `exp`/`nbf` with leeway; RFC 7519);
the JWKS URL comes from OpenID Connect discovery when not configured, and keys are cached and
refetched when a token names an unknown `kid` (key rotation). Secrets are never logged.
"""

from __future__ import annotations

import hmac
import inspect
import json
import logging
import threading
import urllib.request
from pathlib import Path

import jwt

from ..errors import Forbidden, IdentityProviderDown, Unauthorized  # noqa: F401 - re-exported
from .identity import Identity
from .settings import AuthConfig

log = logging.getLogger("cubeserver.auth")


def challenge(realm: str, error: str | None = None) -> dict:
    """The `WWW-Authenticate` header of a 401 (RFC 6750 section 3; API keys ride the Bearer scheme too)."""
    value = f'Bearer realm="{realm}"'
    if error:
        value += f', error="{error}"'
    return {"WWW-Authenticate": value}


def presented(headers: dict[bytes, bytes]) -> str | None:
    """The credential of a request, or None. Raises Unauthorized for a malformed Authorization header."""
    key = headers.get(b"x-api-key")
    if key:
        return key.decode("latin-1").strip()
    auth = headers.get(b"authorization")
    if not auth:
        return None
    scheme, _, value = auth.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("use 'Authorization: Bearer <token>' or 'X-API-Key: <key>'", parameter="Authorization")
    return value.strip()


class Authenticator:
    """Turns a presented credential into an Identity, or raises Unauthorized (401)."""

    def __init__(self, cfg: AuthConfig, root: Path = Path(".")):
        self.cfg = cfg
        self.keys: list[tuple[bytes, Identity]] = []
        for k in cfg.api_keys:
            secret = k.secret(root)
            if secret is None:
                log.warning("api key %r has no value (%s); it is disabled", k.name,
                            f"environment variable {k.key_env} unset" if k.key_env else "key file unreadable")
                continue
            self.keys.append((secret.encode(), Identity(k.name, frozenset(k.roles))))
        self._jwks: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def identify(self, credential: str) -> Identity:
        """Blocking (may fetch the JWKS): call it off the event loop for JWTs."""
        match = None
        for secret, identity in self.keys:  # every key compared: the time does not tell which one matched
            if hmac.compare_digest(secret, credential.encode()):
                match = identity
        if match is not None:
            return match
        if self.cfg.oidc is not None and credential.count(".") == 2:
            return self._from_jwt(credential)
        raise Unauthorized("the credential is not valid", parameter="Authorization",
                           headers=challenge(self.cfg.realm, "invalid_token"))

    def looks_like_jwt(self, credential: str) -> bool:
        return self.cfg.oidc is not None and credential.count(".") == 2

    def _from_jwt(self, token: str) -> Identity:
        oidc = self.cfg.oidc
        try:
            key = self._jwks_client().get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError:
            raise IdentityProviderDown("the identity provider's keys cannot be fetched now; retry later",
                                       headers={"Retry-After": "30"}) from None
        except jwt.PyJWTError as e:
            raise _invalid(self.cfg.realm, e) from None
        try:
            claims = jwt.decode(token, key, algorithms=oidc.algorithms, audience=oidc.audience, issuer=oidc.issuer,
                                leeway=oidc.leeway_s, options={"require": ["exp", "iss"],
                                                               "verify_aud": oidc.audience is not None})
        except jwt.PyJWTError as e:
            raise _invalid(self.cfg.realm, e) from None
        name = claims.get(oidc.name_claim) or claims.get("sub") or "unknown"
        return Identity(str(name), frozenset(_roles(claims, oidc.roles_claim)))

    def _jwks_client(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._jwks is None:
                uri = self.cfg.oidc.jwks_uri or _discover_jwks(self.cfg.oidc.issuer)
                options = {"cache_keys": True, "lifespan": 600, "timeout": 10}
                if "cooldown_duration" in inspect.signature(jwt.PyJWKClient).parameters:  # PyJWT >= 2.10
                    options["cooldown_duration"] = self.cfg.oidc.jwks_refresh_cooldown_s
                self._jwks = jwt.PyJWKClient(uri, **options)
            return self._jwks


def _invalid(realm: str, e: Exception) -> Unauthorized:
    reason = {jwt.ExpiredSignatureError: "the token has expired", jwt.InvalidAudienceError: "wrong audience",
              jwt.InvalidIssuerError: "wrong issuer"}.get(type(e), "the token is not valid")
    return Unauthorized(reason, parameter="Authorization", headers=challenge(realm, "invalid_token"))


def _discover_jwks(issuer: str) -> str:
    """`jwks_uri` from the issuer's OpenID Connect discovery document (OIDC Discovery 1.0, section 4)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - the configured issuer, https in production
            return json.load(r)["jwks_uri"]
    except (OSError, ValueError, KeyError):
        raise IdentityProviderDown("the identity provider cannot be reached now; retry later",
                                   headers={"Retry-After": "30"}) from None


def _roles(claims: dict, path: str) -> list[str]:
    """Roles at a dotted claim path: a list, or a space-separated string (as OAuth `scope` is)."""
    node = claims
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, str):
        return node.split()
    if isinstance(node, list):
        return [str(r) for r in node]
    return []
