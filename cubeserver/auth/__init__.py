"""Authentication and authorization: one layer in front of every router (issue 13, point 1).

Without an `auth` section in the config the server stays open (and says so at start). With
one: credentials (API keys, OpenID Connect JWTs) are checked by `AuthMiddleware`; the areas
listed in `auth.protect` need an identity (401) and, when roles are given, one of them (403);
collections with `access.roles` are visible only to those roles (`visible`, used by the
registry, so listings, HTML pages, Zarr and every API hide them alike); jobs belong to
their submitter. Imports are deferred so `config` can import `settings` without a cycle.
"""

from __future__ import annotations


def install(app, ctx) -> None:
    from .wiring import install_auth

    install_auth(app, ctx)
