"""One access-log line per request: method, path with query string, status, identity, time.

Pure ASGI (Starlette's `BaseHTTPMiddleware` cost about half of the event loop's time per job
submission: it copies every request body through a task). Time is to the last body byte,
so a streamed answer is logged when it ends. The identity is the one the auth layer put in
the request's scope state ("-" when nobody signed in or there is no auth section).
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("cubeserver.access")


class AccessLogMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = [500]

        async def send_status(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            if log.isEnabledFor(logging.INFO):
                query = scope.get("query_string") or b""
                who = (scope.get("state") or {}).get("identity")
                name = who.name if who is not None and who.authenticated and who.kind != "system" else "-"
                log.info("%s %s%s %d %s %.1fms", scope["method"], scope["path"],
                         f"?{query.decode('latin-1')}" if query else "", status[0], name,
                         (time.perf_counter() - start) * 1000)
