"""How every MCP tool runs: as the agent's identity, under the HTTP API's rules, with OGC error wording.

`Env` is what a tool body needs (the app context, the base URL for links, the result budget).
`run_tool` resolves who is calling (the identity the auth middleware put on the `/mcp` request,
or the identity `cubeserver mcp` was started with over stdio), checks the same area rules as
`auth.middleware.AuthMiddleware` and the same per-identity rates as `auth.rates.RateLimitMiddleware`
(one counter storage: a shared `limits.rate_storage` counts HTTP and MCP calls together), then runs
the blocking body in a worker thread with that identity set (so the registry hides private
collections and jobs get their submitter). A `cubeserver.errors.APIError` becomes an MCP tool error
(`isError: true`) whose text is `"<title> (<status>): <detail>"` and whose structured content is
the OGC exception body the HTTP API would have answered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import orjson
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from ..auth import identity as ident
from ..context import AppContext, run_blocking
from ..errors import APIError, TooManyRequests

STDIO_BASE_URL = "http://127.0.0.1:8000"  # links over stdio without `base_url`: where `cubeserver serve` listens


@dataclass
class Env:
    """What a tool body sees: the app context, the base URL of links, and the values it may return."""

    app: AppContext
    base: str
    max_values: int
    used: list = field(default_factory=list)  # the collections the body looked up (a store failure names the last)

    @property
    def config(self):
        return self.app.config


class NoDataError(APIError):
    """A well-formed query that selects nothing (HTTP answers 204 No Content): a tool error saying so."""

    status = 204
    title = "No Content"
    kind = "NoData"


class Caller:
    """Turns an MCP request context into (identity, rate key, base URL); checks areas and rates."""

    def __init__(self, app: AppContext):
        self.app = app
        self.stdio_identity: ident.Identity | None = None  # set by `cubeserver mcp` (stdio)
        self._authorizer = None
        self._limiter = None
        auth = app.config.auth
        if auth is not None:
            from ..auth.middleware import AuthMiddleware

            # the middleware's own rule (areas, roles, admin role, wording), not a copy of it
            self._authorizer = AuthMiddleware(None, auth, None)
        limits = app.config.limits
        rates = {"execute": limits.execute_rate, "data": limits.data_rate}
        if any(rates.values()):
            from ..auth.rates import RateLimitMiddleware

            self._limiter = RateLimitMiddleware(None, rates=rates, storage=limits.rate_storage_setting)

    def who(self, request) -> ident.Identity:
        if request is None:  # stdio
            if self.stdio_identity is not None:
                return self.stdio_identity
            return ident.ANONYMOUS if self.app.config.auth is not None else ident.SYSTEM
        found = (request.scope.get("state") or {}).get("identity")
        if found is not None:
            return found
        return ident.ANONYMOUS if self.app.config.auth is not None else ident.SYSTEM

    def base_url(self, request) -> str:
        if request is None:
            return (self.app.config.base_url or STDIO_BASE_URL).rstrip("/")
        return self.app.base_url(request)

    def authorize(self, who: ident.Identity, area: str | None) -> None:
        """401/403 exactly as the HTTP API answers for `area` (processes, jobs, data, or None: open)."""
        if self._authorizer is not None and area is not None:
            self._authorizer._authorize(who, area)  # noqa: SLF001 - the one implementation of the rule

    async def count(self, who: ident.Identity, rate_area: str | None, request) -> None:
        """429 when `who` is over `limits.execute_rate` / `data_rate`, keyed like the HTTP rate limits."""
        if self._limiter is None or rate_area is None:
            return
        rate = self._limiter.rates.get(rate_area)
        if rate is None:
            return
        named = who.authenticated and who.kind != "system"
        if named:
            key = who.name
        elif request is not None:
            key = f"ip:{(request.scope.get('client') or ('?',))[0]}"
        else:
            key = "ip:stdio"
        left = await run_blocking(self._limiter._check, rate, rate_area, key)  # noqa: SLF001
        if left is not None:
            wait = max(1, math.ceil(left))
            raise TooManyRequests(f"{rate_area}: more than {rate} for {who.name if named else 'this client'}"
                                  f"; retry in {wait} s", parameter=rate_area, headers={"Retry-After": str(wait)})


def error_result(err: APIError) -> CallToolResult:
    """An MCP tool error carrying the OGC exception: text for the model, the JSON body as structured content."""
    body = err.body()
    text = f"{body.get('title', 'Error')} ({body.get('status', 400)}): {body.get('detail', str(err))}"
    if body.get("parameter"):
        text += f" [parameter: {body['parameter']}]"
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=body, is_error=True)


def ok_result(model: BaseModel) -> CallToolResult:
    """A typed result: compact JSON text (for models that read text) plus the same as structured content."""
    data = model.model_dump(mode="json", exclude_none=True)
    return CallToolResult(content=[TextContent(type="text", text=orjson.dumps(data).decode())],
                          structured_content=data)


def request_of(mcp_ctx) -> Any:
    """The Starlette request behind an MCP call over HTTP; None over stdio."""
    if mcp_ctx is None:
        return None
    try:
        return mcp_ctx.request_context.request
    except (ValueError, AttributeError):
        return None


async def run_tool(caller: Caller, mcp_ctx, body: Callable[[Env], Any], *, area: str | None = None,
                   rate: str | None = None, wrap: Callable[[Any], CallToolResult] = ok_result,
                   then: Callable[[Env, Any], Awaitable[Any]] | None = None) -> CallToolResult:
    """Run `body(env)` in a worker thread as the caller, after the area and rate checks.

    `area`: processes | jobs | data | None (the auth areas of `auth.settings.AREAS`); `rate`: execute |
    data | None. `then(env, out)`, when given, continues on the event loop (waiting there, not in a
    worker thread). APIErrors become tool errors (`error_result`); anything else is a crash the SDK
    reports without details (and logs).
    """
    from ..edr.params import NoData

    request = request_of(mcp_ctx)
    who = caller.who(request)
    token = ident.set_current(who)
    env = None
    try:
        caller.authorize(who, area)
        await caller.count(who, rate, request)
        env = Env(caller.app, caller.base_url(request), caller.app.config.mcp.max_values)
        out = await run_blocking(body, env)
        if then is not None:
            out = await then(env, out)
        return wrap(out)
    except NoData as e:
        return error_result(NoDataError(f"no data: {e}; see describe_collection for the extent"))
    except APIError as e:
        return error_result(e)
    except Exception as e:
        from ..sources.unavailable import unavailable

        named = env.used[-1] if env is not None and env.used else None
        store = unavailable(e, caller.app.config, named)  # a remote collection's store is down: 503, not a crash
        if store is None:
            raise
        return error_result(store)
    finally:
        ident.reset(token)
