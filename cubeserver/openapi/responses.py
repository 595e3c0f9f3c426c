"""An operation's `responses` object from its `Op`: success bodies, 304, and the exception statuses.

Error statuses point at shared `components/responses` entries whose body is the `Exception` schema
(cubeserver.errors), in JSON, the only form the exception handlers write.
"""

from __future__ import annotations

from http import HTTPStatus

from ..errors import DOCUMENTED, STATUSES
from .operations import Op
from .schemas import ref

# the text of each status the exception handlers answer with: the one table in cubeserver.errors
ERROR_TEXT = {code: STATUSES[code][1] for code in DOCUMENTED}


def error_responses() -> dict:
    """`components/responses`: one entry per exception status."""
    return {str(code): {"description": text, "content": {"application/json": {"schema": ref("Exception")}}}
            for code, text in ERROR_TEXT.items()}


def responses(op: Op, method: str) -> dict:
    out: dict[str, dict] = {}
    for status, content in sorted(op.ok.items()):
        entry = {"description": op.notes.get(status) or HTTPStatus(status).phrase}
        if content:
            entry["content"] = content
        out[str(status)] = entry
    if method == "get" and op.not_modified:
        out["304"] = {"description": "not modified (If-None-Match / If-Modified-Since matched the ETag / Last-Modified)"}
    # refused before any router (cubeserver.http.limits, cubeserver.ops.headers): every operation
    errors = {*op.errors, 400, 414, *((413, 415) if method in ("post", "put", "patch") else ())}
    if method == "post" or (method == "get" and 413 in op.errors):
        errors |= {429, 503}  # rate limits and job caps (cubeserver.auth.rates, processes.policy), memory budget
    for status in sorted(errors):
        out[str(status)] = {"$ref": f"#/components/responses/{status}"}
        if status in op.notes:
            out[str(status)] = {**error_responses()[str(status)], "description": op.notes[status]}
    return dict(sorted(out.items()))
