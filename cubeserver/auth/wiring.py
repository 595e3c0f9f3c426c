"""Wire the auth layer into the app: middleware, and security schemes in the OpenAPI document."""

from __future__ import annotations

import logging

from .credentials import Authenticator
from .middleware import AuthMiddleware
from .rates import RateLimitMiddleware

log = logging.getLogger("cubeserver.auth")


def install_auth(app, ctx) -> None:
    limits = ctx.config.limits
    # added before the auth middleware, so it runs inside it and sees the request's identity
    app.add_middleware(RateLimitMiddleware, rates={"execute": limits.execute_rate, "data": limits.data_rate},
                       storage=limits.rate_storage_setting)
    cfg = ctx.config.auth
    if cfg is None:
        log.warning("no auth section in the config: every client may read data, execute processes and "
                    "manage every job (fine for a demo; see README 'Access control')")
        return
    authenticator = Authenticator(cfg, ctx.config.root)
    ctx.services["auth"] = authenticator
    app.add_middleware(AuthMiddleware, cfg=cfg, authenticator=authenticator)
    log.info("auth: %d api key(s)%s; protected: %s", len(authenticator.keys),
             f", OpenID Connect issuer {cfg.oidc.issuer}" if cfg.oidc else "",
             ", ".join(a for a in ("processes", "jobs", "data") if cfg.roles_for(a) is not None) or "nothing")
    _document(app, cfg)


def _document(app, cfg) -> None:
    """Declare the security schemes (OpenAPI 3.0 section 4.7.33) and the operations that need them."""
    build = app.openapi

    def with_security() -> dict:
        if app.openapi_schema is not None and "securitySchemes" in app.openapi_schema.get("components", {}):
            return app.openapi_schema
        spec = build()
        schemes = {"bearer": {"type": "http", "scheme": "bearer", "description": "API key or OpenID Connect JWT"},
                   "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
        if cfg.oidc is not None:
            schemes["oidc"] = {"type": "openIdConnect",
                               "openIdConnectUrl": cfg.oidc.issuer.rstrip("/") + "/.well-known/openid-configuration"}
        spec.setdefault("components", {})["securitySchemes"] = schemes
        requirement = [{name: []} for name in schemes]
        from .middleware import area_of

        for path, item in spec.get("paths", {}).items():
            for method, op in item.items():
                if not isinstance(op, dict):
                    continue
                area = area_of(method.upper(), path)
                if area is not None and cfg.roles_for(area) is not None:
                    op["security"] = requirement
                    responses = op.setdefault("responses", {})
                    for status in ("401", "403"):
                        responses.setdefault(status, {"$ref": f"#/components/responses/{status}"})
        app.openapi_schema = spec
        return spec

    app.openapi = with_security
