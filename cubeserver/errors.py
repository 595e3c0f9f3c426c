"""One exception family for every client-facing error, rendered as OGC exception JSON.

Routers and the selection engine raise these; one handler turns them into
`{"type", "title", "status", "detail", "code", "description"}` (RFC 7807 members for Common and
Processes, `code`/`description` for the EDR and Features exception schemas) so no standard has
its own error format.
Unexpected exceptions become a 500 without traceback or server path.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("cubeserver")

OGC_EXC = "http://www.opengis.net/def/exceptions/ogcapi-common-1/1.0"


class APIError(Exception):
    """An error a client can fix (or a 5xx we chose to report)."""

    status = 400
    title = "Bad Request"
    kind = "InvalidParameterValue"

    def __init__(self, detail: str, *, parameter: str | None = None, status: int | None = None,
                 headers: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.parameter = parameter
        self.headers = headers  # e.g. Retry-After on a 503
        if status is not None:
            self.status = status

    def body(self) -> dict:
        body = {
            "type": f"{OGC_EXC}/{self.kind}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            # the EDR 1.1 and Features exception schemas (exception.yaml) require `code`, with `description`
            "code": self.kind,
            "description": self.detail,
        }
        if self.parameter:
            body["parameter"] = self.parameter
        return body


class BadRequest(APIError):
    """400: a parameter is malformed or not allowed. Name the parameter in `parameter`."""


class NotFound(APIError):
    status = 404
    title = "Not Found"
    kind = "NotFound"


class NotAcceptable(APIError):
    status = 406
    title = "Not Acceptable"
    kind = "NotAcceptable"


class TooLarge(APIError):
    status = 413
    title = "Payload Too Large"
    kind = "PayloadTooLarge"


class MethodNotAllowed(APIError):
    status = 405
    title = "Method Not Allowed"
    kind = "MethodNotAllowed"


class Conflict(APIError):
    status = 409
    title = "Conflict"
    kind = "Conflict"


def _response(err: APIError, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method some route offers at this path (Starlette's own Allow names only the first route's)."""
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for route in _leaf_routes(request.app.router.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")  # HEAD is answered on every GET route (cubeserver.http.head)
    return ", ".join(sorted(methods))


def _leaf_routes(routes):
    """Routes with methods, looking inside included routers (all mounted without a prefix here)."""
    for route in routes:
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        if inner is not None and not getattr(route, "methods", None):
            yield from _leaf_routes(inner)
        else:
            yield route


def install_handlers(app: FastAPI) -> None:
    """Route every exception through the OGC exception body."""

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError):
        return _response(exc, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        problems = []
        param = None
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ()) if p not in ("query", "path", "body", "header")]
            param = param or (loc[-1] if loc else None)
            problems.append(f"{'.'.join(loc) or 'request'}: {e.get('msg')}")
        return _response(BadRequest("; ".join(problems) or "invalid request", parameter=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return _response(NotFound(f"no resource at {request.url.path}"))
        if exc.status_code == 405:
            allow = _allowed_methods(request)
            return _response(MethodNotAllowed(f"method {request.method} is not allowed on {request.url.path}; "
                                              f"allowed: {allow}"), headers={"Allow": allow})
        err = APIError(str(exc.detail), status=exc.status_code)
        err.title = "HTTP error"
        return _response(err)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        err = APIError("internal server error; the incident was logged", status=500)
        err.title = "Internal Server Error"
        err.kind = "ServerError"
        return _response(err)
