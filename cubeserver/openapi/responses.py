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
    401: "no credential, or one that is not valid, where the server's `auth` section asks for one",
    403: "a valid identity without a role this needs",
    429: "too many requests or jobs for this identity (limits.execute_rate, data_rate, max_jobs_per_identity); "
         "see Retry-After",
    500: "server error (no details are given)",
    503: "busy: the memory budget for answers in flight or the job capacity is used up; see Retry-After",
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
    if method == "post" or (method == "get" and 413 in op.errors):
        errors |= {429, 503}  # rate limits and job caps (cubeserver.auth.rates, processes.policy), memory budget
    for status in sorted(errors):
        out[str(status)] = {"$ref": f"#/components/responses/{status}"}
        if status in op.notes:
            out[str(status)] = {**error_responses()[str(status)], "description": op.notes[status]}
    return dict(sorted(out.items()))
