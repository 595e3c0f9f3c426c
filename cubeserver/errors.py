"""One exception family for every client-facing error, rendered as OGC exception JSON.

Routers and the selection engine raise these; one handler turns them into
`{"type", "title", "status", "detail", "code", "description"}` (RFC 7807 members for Common and
Processes, `code`/`description` for the EDR and Features exception schemas) so no standard has
its own error format.
Unexpected exceptions become a 500 without traceback or server path, answered by `CatchAll`
(innermost middleware) so the connection stays usable: Starlette's own last-resort handler
re-raises after answering, and uvicorn then drops a keep-alive connection.

`STATUSES` is the one table of every status these exceptions answer with (its title, and the text
the OpenAPI document gives it, cubeserver.openapi.responses).
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("cubeserver")

OGC_EXC = "http://www.opengis.net/def/exceptions/ogcapi-common-1/1.0"

# status -> (title, what it means: the description of that status in the OpenAPI document)
STATUSES: dict[int, tuple[str, str]] = {
    400: ("Bad Request", "bad request: a parameter is malformed, out of range, or not accepted here (`parameter` names it)"),
    401: ("Unauthorized", "no credential, or one that is not valid, where the server's `auth` section asks for one"),
    403: ("Forbidden", "a valid identity without a role this needs"),
    404: ("Not Found", "not found: no such collection, instance, location, feature, process, job or key"),
    405: ("Method Not Allowed", "the method is not offered on this path (Allow lists those that are)"),
    406: ("Not Acceptable", "not acceptable: no format offered here satisfies the Accept header"),
    409: ("Conflict", "the resource is not in a state that allows this"),
    413: ("Payload Too Large", "the answer (or the request body) would exceed this server's size limits; narrow the request"),
    414: ("URI Too Long", "the URL is longer than this server accepts (limits.max_url_bytes)"),
    415: ("Unsupported Media Type", "a request body that is not JSON"),
    429: ("Too Many Requests", "too many requests or jobs for this identity (limits.execute_rate, data_rate, "
                               "max_jobs_per_identity); see Retry-After"),
    500: ("Internal Server Error", "server error (no details are given)"),
    503: ("Service Unavailable", "busy: the memory budget for answers in flight or the job capacity is used up, or "
                                 "a remote collection's store cannot be read; see Retry-After"),
}
# the statuses every operation's OpenAPI responses may name (405 and 409 are answered but not listed per operation)
DOCUMENTED = (400, 404, 406, 413, 414, 415, 401, 403, 429, 500, 503)


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


class Unauthorized(APIError):
    """401: no credential where one is needed, or one that is not valid (RFC 6750 section 3)."""

    status = 401
    title = "Unauthorized"
    kind = "Unauthorized"


class Forbidden(APIError):
    """403: a valid identity without a role the resource needs."""

    status = 403
    title = "Forbidden"
    kind = "Forbidden"


class IdentityProviderDown(APIError):
    """503: the OpenID Connect provider's JWKS cannot be fetched, so a token cannot be checked."""

    status = 503
    title = "Service Unavailable"
    kind = "IdentityProviderUnavailable"


class URITooLong(APIError):
    """414: the request line is longer than limits.max_url_bytes."""

    status = 414
    title = "URI Too Long"
    kind = "URITooLong"


class UnsupportedMediaType(APIError):
    """415: a request body that is not JSON where JSON is required (process execution)."""

    status = 415
    title = "Unsupported Media Type"
    kind = "UnsupportedMediaType"


class TooManyRequests(APIError):
    """429: over a per-identity rate limit (limits.execute_rate / data_rate); sent with Retry-After."""

    status = 429
    title = "Too Many Requests"
    kind = "TooManyRequests"


class TooManyJobs(APIError):
    """429: over the cap of queued/running jobs for this identity; sent with Retry-After."""

    status = 429
    title = "Too Many Requests"
    kind = "TooManyJobs"


class ServerBusy(APIError):
    """503: the memory budget for answers in flight, or the server's job capacity, is used up (Retry-After)."""

    status = 503
    title = "Service Unavailable"
    kind = "ServerBusy"


class StoreUnavailable(APIError):
    """503: a remote collection's store cannot be read now (down, 403/404, timeout); other collections still work."""

    status = 503
    title = "Service Unavailable"
    kind = "StoreUnavailable"


class ServerError(APIError):
    """500: an unexpected exception; the answer says only that it was logged."""

    status = 500
    title = "Internal Server Error"
    kind = "ServerError"

    def __init__(self):
        super().__init__("internal server error; the incident was logged")


def _check_titles() -> None:
    for cls in (BadRequest, NotFound, NotAcceptable, TooLarge, MethodNotAllowed, Conflict, Unauthorized, Forbidden,
                IdentityProviderDown, URITooLong, UnsupportedMediaType, TooManyRequests, TooManyJobs, ServerBusy,
                StoreUnavailable, ServerError):
        assert STATUSES[cls.status][0] == cls.title, cls  # one table: a class's title is its status's


_check_titles()


def _response(err: APIError, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method some route offers at this path (Starlette's own Allow names only the first route's)."""
    from .http.prefix import route_path

    path = route_path(request.scope)
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


class CatchAll:
    """Pure ASGI, innermost: an exception no handler took becomes the OGC 500 body, and is not re-raised,
    so the server keeps the (keep-alive) connection open. After the answer has started nothing can
    be sent any more: then it is re-raised and the server drops the connection (a truncated body)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            unavailable = _store_error(exc, scope)
            if unavailable is not None and not started:
                log.warning("%s %s: %s", scope.get("method"), scope.get("path"), unavailable.detail)
                return await _response(unavailable, headers=unavailable.headers)(scope, receive, send)
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await _response(ServerError())(scope, receive, send)


_COLLECTION_PATH = re.compile(r"^/collections/([^/]+)")


def _store_error(exc: BaseException, scope) -> APIError | None:
    """A remote store's failure while reading a remote collection's data: 503 naming the collection, else None.
    The collection is the one of a /collections/{id} path or the first WMS layer; else the one the error names."""
    from .sources.unavailable import unavailable

    app = scope.get("app")
    ctx = getattr(getattr(app, "state", None), "ctx", None)
    if ctx is None:
        return None
    m = _COLLECTION_PATH.match(scope.get("path") or "")
    cid = m.group(1) if m else _wms_collection(scope.get("query_string") or b"")
    return unavailable(exc, ctx.config, cid)


def _wms_collection(query: bytes) -> str | None:
    """The collection of the first layer of a WMS request (`LAYERS=coll/var,...`), None without one."""
    from urllib.parse import parse_qsl

    for k, v in parse_qsl(query.decode("latin-1")):
        if k.upper() in ("LAYERS", "QUERY_LAYERS", "LAYER") and v:
            return v.split(",")[0].split("/")[0]
    return None


def install_handlers(app: FastAPI) -> None:
    """Route every exception through the OGC exception body (CatchAll innermost, for the unexpected ones)."""
    app.add_middleware(CatchAll)  # added first: every later middleware wraps it

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
    async def _bug(request: Request, exc: Exception):  # raised in an outer middleware (CatchAll did not see it)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _response(ServerError())
