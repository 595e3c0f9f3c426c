"""The `auth` section of the config and a collection's `access` (pydantic models, no server imports)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

AREAS = ("processes", "jobs", "data")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class APIKey(_Strict):
    """One key: given literally (`key`, demos only), or read from an environment variable or a file."""

    name: str
    key: str | None = Field(default=None, repr=False)
    key_env: str | None = None
    key_file: str | None = None
    roles: list[str] = []

    @model_validator(mode="after")
    def _one_source(self):
        given = [s for s in (self.key, self.key_env, self.key_file) if s]
        if len(given) != 1:
            raise ValueError(f"api key {self.name!r}: give exactly one of key, key_env, key_file")
        return self

    def secret(self, root: Path = Path(".")) -> str | None:
        """The key's value now (environment and files are read at start), or None when absent.
        A relative `key_file` is read from `root`, the config file's folder."""
        if self.key:
            return self.key
        if self.key_env:
            return os.environ.get(self.key_env) or None
        path = Path(os.path.expanduser(self.key_file))
        path = path if path.is_absolute() else Path(root) / path
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None


class OIDC(_Strict):
    """Bearer JWTs from an OpenID Connect issuer, checked against its JWKS (RFC 7517/7519)."""

    issuer: str = Field(description="the `iss` every token must carry; discovery at {issuer}/.well-known/openid-configuration")
    audience: str | list[str] | None = Field(default=None, description="accepted `aud` values (checked when given)")
    jwks_uri: str | None = Field(default=None, description="JWKS URL; found by discovery when left out")
    algorithms: list[str] = ["RS256", "ES256"]
    roles_claim: str = Field(default="roles", description="dotted path of the roles list, e.g. realm_access.roles")
    name_claim: str = Field(default="preferred_username", description="claim naming the user (falls back to sub)")
    leeway_s: int = Field(default=30, ge=0)
    jwks_refresh_cooldown_s: float = Field(default=30, ge=0, description="least time between two JWKS refetches "
                                           "for unknown key ids (key rotation), so forged kids cannot flood the issuer")


class AuthConfig(_Strict):
    api_keys: list[APIKey] = []
    oidc: OIDC | None = None
    protect: list[str] | dict[str, list[str]] = Field(
        default=["processes", "jobs"],
        description="areas that need an identity: processes (execute), jobs, data (every collection); "
        "a mapping gives the roles each needs ({processes: [analyst]})")
    admin_role: str = Field(default="admin", description="role that may read and dismiss every job")
    realm: str = "cubeserver"

    @model_validator(mode="after")
    def _areas(self):
        unknown = set(self.protect) - set(AREAS)
        if unknown:
            raise ValueError(f"auth.protect: unknown area(s) {sorted(unknown)}; allowed: {', '.join(AREAS)}")
        return self

    def roles_for(self, area: str) -> list[str] | None:
        """None: the area is open; []: any identity; [r, ...]: one of these roles."""
        if isinstance(self.protect, dict):
            return list(self.protect[area]) if area in self.protect else None
        return [] if area in self.protect else None


class Access(_Strict):
    """A private collection: only identities with one of `roles` see it (others get 404)."""

    roles: list[str] = Field(min_length=1)
