"""The OpenAPI 3.0 document at /openapi, generated from the models that produce the answers.

FastAPI's document gives the paths and the declared parameters; this package then replaces what
FastAPI cannot know:
- `operations`: for every operation, every status it can return (the exception classes of
  cubeserver.errors, 304 from the conditional middleware, 201/204 where sent; no FastAPI 422, the
  server answers validation errors with 400) and per success status every media type the
  negotiation tables allow (`formats`), with real schemas (`schemas`: the official EDR 1.1,
  Features 1.0.1, Processes 1.0 and Coverages schemas bundled as components, ours elsewhere);
- `parameters`: plain query types, `f` enums per operation, the bbox shape, limits;
- `collections`: a concrete path entry per gridded collection with its extra dimensions and variables.
The result is OpenAPI 3.0.3 (`common.oas30`), which OGC API Common/Features/EDR/Processes `oas30`
conformance classes require; `build` is called once and cached by app.py.
"""

from __future__ import annotations

import logging
import re

from ..common import oas30
from ..errors import APIError
from . import collections, parameters
from .operations import Op, operations
from .responses import error_responses, responses
from .schemas import components

log = logging.getLogger("cubeserver")
_DROP_SCHEMAS = ("HTTPValidationError", "ValidationError")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def process_media(ctx) -> list[str]:
    """Media types the processes' outputs can have (their descriptions' `formats`), plus JSON."""
    jobs = ctx.services.get("jobs")
    found = ["application/json"]
    for p in (jobs.processes.values() if jobs else ()):
        for out in (p.describe("").get("outputs") or {}).values():
            found += out.get("formats") or []
    return list(dict.fromkeys(found))


def template_of(path: str, ids: set[str]) -> str:
    """`/collections/places/items` -> `/collections/{collectionId}/items` for a known collection id."""
    m = re.match(r"^/collections/([^/{}]+)(/.*)$", path)
    if m and m.group(1) in ids:
        return "/collections/{collectionId}" + m.group(2)
    return path


def gridded(ctx) -> list:
    """The public collections with a gridded dataset (those that open; a broken one gets no concrete paths;
    a private one none either: the document is the same for everyone and must not name it)."""
    out = []
    for c in ctx.registry:
        if c.config.access is not None:
            continue
        try:
            out.append(ctx.registry.gridded(c.id))
        except APIError:
            continue
        except Exception:  # noqa: BLE001 - a collection that fails to open must not break /openapi
            log.warning("openapi: collection %s did not open; documented by the generic paths only", c.id)
    return out


def apply(spec: dict, table: dict[tuple[str, str], Op], ids: set[str]) -> list[str]:
    """Rewrite each operation's responses and parameters in place; return the operations not in `table`."""
    unknown = []
    for path, item in spec["paths"].items():
        template = template_of(path, ids)
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            spec_op = table.get((method, template))
            if spec_op is None:
                unknown.append(f"{method.upper()} {path}")
                op["responses"] = {k: v for k, v in op.get("responses", {}).items() if k != "422"}
                continue
            op["responses"] = responses(spec_op, method)
            if op.get("security"):  # marked by the auth layer (cubeserver.auth.wiring): it may refuse
                op["responses"].update({s: {"$ref": f"#/components/responses/{s}"} for s in ("401", "403")})
            if op.get("parameters"):
                op["parameters"] = parameters.fix(op["parameters"], spec_op.f, template)
    return unknown


def openapi_path(table) -> dict:
    op = table[("get", "/openapi")]
    return {"get": {
        "tags": ["Common"], "summary": "This API definition (OpenAPI 3.0)", "operationId": "openapi",
        "parameters": [{"name": "f", "in": "query", "required": False, "schema": {"type": "string", "enum": op.f},
                        "description": "json/openapi (default) or html (a redirect to /docs)"}],
        "responses": responses(op, "get"),
    }}


def build(fastapi_spec: dict, ctx) -> dict:
    """The OpenAPI 3.0 document from FastAPI's 3.1 one (which is left unchanged)."""
    spec = oas30.downgrade(fastapi_spec)
    table = operations(process_media(ctx))
    spec["paths"] = {"/openapi": openapi_path(table), **spec["paths"]}
    ids = {c.id for c in ctx.registry}
    unknown = apply(spec, table, ids)
    if unknown:
        log.warning("openapi: no answer table for %s", ", ".join(unknown))
    collections.add(spec, gridded(ctx))
    comp = spec.setdefault("components", {})
    own = {k: v for k, v in comp.get("schemas", {}).items() if k not in _DROP_SCHEMAS}
    comp["schemas"] = {**own, **components()}
    comp["responses"] = error_responses()
    return spec


__all__ = ["build", "operations"]
