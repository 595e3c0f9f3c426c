"""HEAD for every GET route: FastAPI routes answer GET only, while caches, `curl -I` and
link checkers send HEAD. The app runs the GET; headers go out, the body is dropped."""

from __future__ import annotations


class HeadMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def send_headers_only(message):
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            if message["type"] == "http.response.start":
                await send(message)
                return
            if message["type"] == "http.response.pathsend":
                await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
