"""Tool calls the SDK refuses before a tool runs, answered in the OGC wording of every other tool error.

The SDK validates arguments against a tool's input schema with pydantic and, on failure, answers
`Error executing tool <name>: 1 validation error for <name>Arguments ...` with pydantic's type
codes and documentation URLs; it ignores arguments the tool does not have (a misspelt `variable`
would silently mean "all variables") and answers an unknown tool with one bare line. `Server`
(the SDK's `MCPServer`) turns these three into tool errors like the HTTP API's 400/404:
`Bad Request (400): point_series: lon (longitude, degrees east (WGS 84)): should be less than or
equal to 360 (got 500) [parameter: lon]`, with the OGC exception as structured content.
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from pydantic import ValidationError

from ..errors import BadRequest, NotFound
from .calls import error_result

# pydantic names the member of a union (`str | float`) that failed in the error location: not a field
_UNION_MEMBER = re.compile(r"^(str|float|int|bool|none|[a-z][\w-]*\[.*\])$")
SHOWN_CHARS = 80


def _path(loc: tuple) -> str:
    """`('filters', 'name', 'str')` -> `filters.name`; list positions as `bbox[2]`."""
    parts = [str(loc[0])]
    for p in loc[1:]:
        if isinstance(p, int):
            parts[-1] += f"[{p}]"
        elif not _UNION_MEMBER.match(str(p)):
            parts.append(str(p))
    return ".".join(parts)


def _shown(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON would say null
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"


def _problem(path: str, errors: list[dict], about: str | None) -> str:
    """One argument's problem: what it is (`about`, its schema description), should be and was given."""
    msgs = list(dict.fromkeys(e["msg"] for e in errors))
    if all(m.startswith("Input should be ") for m in msgs):
        want = "should be " + " or ".join(m[len("Input should be "):] for m in msgs)
    else:
        want = "; ".join(m[:1].lower() + m[1:] for m in msgs)
    label = f"{path} ({about})" if about else path
    return f"{label}: {want} (got {_shown(errors[0].get('input'))})"


def schema_error(tool: str, err: ValidationError, schema: dict) -> BadRequest:
    """The 400 for arguments that break `tool`'s input schema: every argument at fault, named first."""
    grouped: dict[str, list[dict]] = {}
    for e in err.errors(include_url=False):
        grouped.setdefault(_path(e["loc"]), []).append(e)
    missing = [p for p, errors in grouped.items() if errors[0]["type"] == "missing"]
    properties = schema.get("properties") or {}
    problems = [_problem(p, errors, properties.get(p, {}).get("description"))
                for p, errors in grouped.items() if p not in missing]
    if missing:
        problems.insert(0, f"missing {', '.join(missing)} (required: {', '.join(schema.get('required') or [])})")
    first = re.split(r"[.\[]", (missing or list(grouped))[0])[0]
    return BadRequest(f"{tool}: {'; '.join(problems)}", parameter=first)


def unknown_arguments(tool: str, arguments: dict, schema: dict) -> BadRequest | None:
    """A 400 naming arguments `tool` does not have (as the HTTP API refuses unknown query parameters)."""
    accepted = list((schema.get("properties") or {}))
    unknown = [k for k in arguments if k not in accepted]
    if not unknown:
        return None
    also = f"; also not accepted: {', '.join(repr(k) for k in unknown[1:])}" if unknown[1:] else ""
    return BadRequest(f"unknown argument {unknown[0]!r} for {tool}{also}; accepted: {', '.join(accepted)}",
                      parameter=str(unknown[0]))


class Server(MCPServer):
    """The SDK's MCPServer whose argument, unknown-argument and unknown-tool failures are OGC-worded tool errors."""

    def tool(self, *args, **kwargs):
        """As `MCPServer.tool`; a docstring becomes a one-line description (the SDK keeps its source indentation)."""
        register = super().tool(*args, **kwargs)

        def decorate(fn):
            if kwargs.get("description") is None and fn.__doc__:
                fn.__doc__ = " ".join(fn.__doc__.split())
            return register(fn)
        return decorate

    async def call_tool(self, name: str, arguments: dict[str, Any], context=None):
        """As `MCPServer.call_tool`, but refusals before the tool runs come back as `error_result`s."""
        schemas = {t.name: t.input_schema for t in await self.list_tools()}
        schema = schemas.get(name)
        if schema is None:
            return error_result(NotFound(f"no tool {name!r}; tools: {', '.join(schemas)}", parameter="name"))
        wrong = unknown_arguments(name, arguments or {}, schema)
        if wrong is not None:
            return error_result(wrong)
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as e:
            if isinstance(e, UnexpectedToolError) or not isinstance(e.__cause__, ValidationError):
                raise
            return error_result(schema_error(name, e.__cause__, schema))
