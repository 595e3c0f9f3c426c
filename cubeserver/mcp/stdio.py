"""`cubeserver mcp --config FILE`: the MCP server over stdio, for desktop agents that start it themselves.

The whole app is built (`create_app`), so the tools see the same registry, job manager, limits
and auth rules as `cubeserver serve`; its lifespan (job manager start and stop) runs around the
stdio loop. stdout carries only MCP messages: logs go to stderr.

Identity: with an `auth` section, the credential in the environment variable CUBESERVER_MCP_TOKEN
(an API key or an OpenID Connect JWT, checked like an HTTP bearer token) is who the agent is;
without it the agent is anonymous (private collections invisible, protected areas refused).
Without an `auth` section everything is open, as on HTTP. Links in answers use `base_url` from the
config, else http://127.0.0.1:8000 (where `cubeserver serve` listens by default).
"""

from __future__ import annotations

import logging
import os
import sys

TOKEN_ENV = "CUBESERVER_MCP_TOKEN"
log = logging.getLogger("cubeserver.mcp")


def identity_from_env(ctx):
    """The Identity of $CUBESERVER_MCP_TOKEN (None: the default, anonymous with auth, else open)."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        return None
    authenticator = ctx.services.get("auth")
    if authenticator is None:
        log.warning("%s is set but the config has no auth section: the server is open anyway", TOKEN_ENV)
        return None
    return authenticator.identify(token)  # Unauthorized for a wrong key or token


def refuse_bad_token(config) -> int | None:
    """2 (and one line on stderr) when $CUBESERVER_MCP_TOKEN is set but not a valid credential for the config's
    `auth` section, else None. Checked before any collection is opened: a wrong key is refused at once,
    not after the seconds that opening every source takes."""
    from ..auth.credentials import Authenticator
    from ..errors import APIError

    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token or config.auth is None:
        return None
    try:
        Authenticator(config.auth, config.root).identify(token)
    except APIError as e:
        print(f"cubeserver mcp: {TOKEN_ENV}: {e.detail}", file=sys.stderr)
        return 2
    return None


def run_stdio(config, registry) -> int:
    """Serve MCP on stdin/stdout until the client closes them; 2 for a credential that is not valid."""
    import anyio

    from ..app import create_app
    from ..errors import APIError

    app = create_app(config, registry)
    ctx = app.state.ctx
    found = ctx.services.get("mcp")
    if found is None:
        print("cubeserver mcp: the mcp package is not installed (pip install 'mcp>=2.3')", file=sys.stderr)
        return 2
    server, caller = found
    try:
        caller.stdio_identity = identity_from_env(ctx)
    except APIError as e:
        print(f"cubeserver mcp: {TOKEN_ENV}: {e.detail}", file=sys.stderr)
        return 2

    async def main():
        async with app.router.lifespan_context(app):
            await server.run_stdio_async()

    anyio.run(main)
    return 0
