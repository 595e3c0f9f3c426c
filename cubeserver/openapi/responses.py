"""An operation's `responses` object from its `Op`: success bodies, 304, and the exception statuses.

Error statuses point at shared `components/responses` entries whose body is the `Exception` schema
(cubeserver.errors), in JSON, the only form the exception handlers write.
"""

from __future__ import annotations

from http import HTTPStatus

from .operations import Op
from .schemas import ref

ERROR_TEXT = {
    400: "bad request: a parameter is malformed, out of range, or not accepted here (`parameter` names it)",
    404: "not found: no such collection, instance, location, feature, process, job or key",
    406: "not acceptable: no format offered here satisfies the Accept header",
    413: "the answer (or the request body) would exceed this server's size limits; narrow the request",
    414: "the URL is longer than this server accepts (limits.max_url_bytes)",
    415: "a request body that is not JSON",
    500: "server error (no details are given)",
}


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
    for status in sorted(errors):
        out[str(status)] = {"$ref": f"#/components/responses/{status}"}
        if status in op.notes:
            out[str(status)] = {**error_responses()[str(status)], "description": op.notes[status]}
    return dict(sorted(out.items()))
