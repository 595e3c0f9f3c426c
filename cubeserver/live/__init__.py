"""Live collections (issue 16): reloads without a restart, the admin endpoint, change notifications.

- `Refresher` (refresher.py), started with the app: per-collection `refresh` polls, retries of
  unavailable remote stores, and the reload version file shared by every server process;
- `POST /admin/reload[?collection=a,b]`: needs an identity with `auth.admin_role` (401/403; without an
  `auth` section nobody can be identified, so it answers 403: use `cubeserver reload`). It reloads in
  this process at once and bumps the version file so the other processes follow;
- `GET /collections/{id}/events` (events.py): Server-Sent Events on each swap.
The registry is closed when the app shuts down (remote files and GDAL handles included).
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import APIRouter, Query

from ..auth.credentials import challenge
from ..auth.identity import current
from ..context import json_response, run_blocking
from ..errors import BadRequest, Forbidden, NotFound, Unauthorized
from .events import EventHub, router as events_router
from .refresher import Refresher, request_reload


def install(app, ctx) -> None:
    hub = EventHub()
    refresher = Refresher(ctx.registry, ctx.config)
    ctx.services["refresher"] = refresher
    ctx.registry.listeners.append(hub.publish)
    app.include_router(events_router(ctx, hub))
    app.include_router(_admin_router(ctx, refresher))

    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        refresher.start()
        try:
            async with previous(a) as state:
                yield state
        finally:
            refresher.stop()
            if hub.publish in ctx.registry.listeners:
                ctx.registry.listeners.remove(hub.publish)
            await run_blocking(ctx.registry.close)

    app.router.lifespan_context = lifespan


def _admin_router(ctx, refresher: Refresher) -> APIRouter:
    r = APIRouter()
    auth = ctx.config.auth

    @r.post("/admin/reload", summary="Reload collections now (every server process follows)", tags=["Admin"])
    async def reload(collection: list[str] | None = Query(None, description="comma-separated collection ids "
                                                                             "(or the parameter repeated); "
                                                                             "default: every collection")):
        who = current()
        if auth is None:
            raise Forbidden("reload: there is no 'auth' section, so no administrator can be identified; "
                            "run `cubeserver reload` on the server instead", parameter="Authorization")
        if not who.authenticated:
            raise Unauthorized("reload: sign in with an identity holding the admin role", parameter="Authorization",
                               headers=challenge(auth.realm))
        if not who.has_any([auth.admin_role]):
            raise Forbidden(f"reload: needs the role {auth.admin_role}", parameter="Authorization")
        ids = None
        if collection:
            ids = [c.strip() for value in collection for c in value.split(",") if c.strip()]
            if not ids:
                raise BadRequest("collection: no collection id given; leave the parameter out to reload every "
                                 "collection", parameter="collection")
            unknown = [c for c in ids if c not in ctx.config.collections]
            if unknown:
                raise NotFound(f"no collection {unknown[0][:80]!r}; see /collections", parameter="collection")
        seq = await run_blocking(request_reload, ctx.config, ids)
        refresher.seen = max(refresher.seen, seq)  # done here; the other processes follow the file
        result = await run_blocking(refresher.reload, ids)
        return json_response({"version": seq, **result})

    return r
