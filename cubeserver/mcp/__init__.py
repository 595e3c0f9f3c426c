"""Model Context Protocol: AI agents query the cubes and run processes (issue 17).

`install(app, ctx)` builds the MCP server (the official `mcp` SDK, cubeserver.mcp.server) and mounts
its Streamable HTTP transport at `/mcp` in the same app, stateless and with JSON answers (any
server process can answer any call, so `--workers N` and several machines need no sticky
sessions). The SDK's session manager runs inside the app's lifespan, wrapping whatever lifespan
is there (the job manager's). Requests to `/mcp` pass every middleware of the app first: the auth
layer sets the identity of the bearer token or API key the agent connects with, trusted hosts,
body and URL limits, CORS and the access log apply as to any path. Over stdio, `cubeserver mcp
--config FILE` runs the same server (cubeserver.mcp.stdio).

`ctx.services["mcp"]` holds the server and its Caller. Without the SDK installed, nothing is mounted.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from starlette.routing import Route

log = logging.getLogger("cubeserver.mcp")

PATH = "/mcp"


def install(app, ctx) -> None:
    try:
        from mcp.server.transport_security import TransportSecuritySettings
    except ImportError:  # the optional SDK is missing: the rest of the server works without it
        log.warning("the mcp package is not installed: no MCP endpoint (pip install 'mcp>=2.3')")
        return
    from .server import build_server

    server, caller = build_server(ctx)
    ctx.services["mcp"] = (server, caller)
    if not ctx.config.mcp.enabled:
        return
    # Host checks are the app's own (http.trusted_hosts, run before any router); the SDK's
    # localhost-only default would refuse every deployed host name.
    sub = server.streamable_http_app(
        streamable_http_path=PATH, stateless_http=True, json_response=True,
        max_request_body_size=ctx.config.limits.max_body_bytes,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    # the SDK's one Route at /mcp, as part of this app (behind its middleware). POST only: stateless
    # JSON answers offer no GET event stream and no session to DELETE (405 + Allow, an OGC exception)
    (endpoint,) = [r.endpoint for r in sub.routes if getattr(r, "path", None) == PATH]
    app.router.routes.append(Route(PATH, endpoint=endpoint, methods=["POST"], include_in_schema=False))

    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        async with server.session_manager.run():
            async with previous(a) as state:
                yield state

    app.router.lifespan_context = lifespan
