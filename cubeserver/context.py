"""What every router needs: the config, the registry, templates and URL helpers."""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .config import ServerConfig
from .registry import Registry

TEMPLATES = Path(__file__).with_name("templates")


@dataclass
class AppContext:
    config: ServerConfig
    registry: Registry
    conformance: list[str] = field(default_factory=list)
    services: dict[str, Any] = field(default_factory=dict)  # e.g. "jobs": the process manager
    # each standard adds its links/metadata to a collection document: hook(collection, base_url, doc)
    collection_hooks: list[Callable] = field(default_factory=list)

    def __post_init__(self):
        self.jinja = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
        self.jinja.filters["tojson"] = lambda v: orjson.dumps(v, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode()

    def base_url(self, request: Request) -> str:
        """The API's public root without a trailing slash: `base_url` of the config, else the request's
        scheme, host and root path (a sub-path behind a proxy: cubeserver.http.prefix)."""
        if self.config.base_url:
            return self.config.base_url.rstrip("/")
        return str(request.base_url).rstrip("/")

    def request_url(self, request: Request, **params: str) -> str:
        """The request's own URL as clients see it (`base_url` + the path below the root + the query),
        with the query parameters `params` set: self links, alternate formats, the data URL of a page."""
        from .http.prefix import route_path

        url = request.url.include_query_params(**params) if params else request.url
        path = quote(route_path(request.scope), safe="/:@!$&'()*+,;=-._~")
        return f"{self.base_url(request)}{path}" + (f"?{url.query}" if url.query else "")

    def html(self, template: str, request: Request, data: dict, title: str, status: int = 200,
             json_url: str | None = None) -> HTMLResponse:
        """A page of `template`; its header's JSON link is this URL with f=json, or `json_url` for pages that have
        no JSON form of their own (the viewer links its collection's document)."""
        page = self.jinja.get_template(template).render(
            data=data, title=title, base=self.base_url(request), server_title=self.config.title,
            json_url=json_url or self.request_url(request, f="json"),
        )
        return HTMLResponse(page, status_code=status)


def json_response(data: Any, media_type: str = "application/json", status: int = 200, headers: dict | None = None) -> Response:
    """orjson with numpy support: fast for large bodies, NaN becomes null."""
    body = orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    return Response(body, media_type=media_type, status_code=status, headers=headers)


async def run_blocking(fn: Callable, *args, **kwargs):
    """Run array work off the event loop so other requests keep flowing.

    The request's context variables go with it (as `asyncio.to_thread` does), so the worker can
    book memory on the request's budget reservation (cubeserver.budget)."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    return await loop.run_in_executor(None, partial(context.run, fn, *args, **kwargs))


def link(href: str, rel: str, type_: str, title: str | None = None, **extra) -> dict:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    out.update(extra)
    return out
