"""Per-identity rate limits on executing processes and on data queries: 429 with `Retry-After`.

Counted with the `limits` library (moving window, in this process's memory: with several
server processes each counts its own share). The key is the identity's name when the client
signed in, else its address, so one anonymous client cannot starve the others. Zarr chunk
reads and metadata are not counted: a notebook opening a cube makes hundreds of them.
"""

from __future__ import annotations

import math
import re
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ..errors import TooManyRequests, _response  # noqa: F401 - re-exported
from . import identity as ident
from .middleware import area_of

_QUERIES = re.compile(r"^/collections/[^/]+(/instances/[^/]+)?/(position|radius|area|cube|trajectory|corridor|items|"
                      r"locations(/[^/]+)?|coverage(/[^/]+)?|map|tiles/.+)/?$")


def rate_area(method: str, path: str) -> str | None:
    """`execute` for process execution, `data` for data queries, None for everything else."""
    if area_of(method, path) == "processes":
        return "execute"
    if method in ("GET", "HEAD") and _QUERIES.match(path):
        return "data"
    return None


class RateLimitMiddleware:
    """Pure ASGI, inside the auth layer (it reads the request's identity)."""

    def __init__(self, app, rates: dict[str, str | None]):
        self.app = app
        self.rates = {area: parse(text) for area, text in rates.items() if text}
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.rates:
            area = rate_area(scope["method"], scope["path"])
            rate = self.rates.get(area)
            if rate is not None:
                who = ident.current()
                key = who.name if who.authenticated and who.kind != "system" else f"ip:{(scope.get('client') or ('?',))[0]}"
                if not self.limiter.hit(rate, area, key):
                    reset = self.limiter.get_window_stats(rate, area, key).reset_time
                    wait = max(1, math.ceil(reset - time.time()))
                    named = who.authenticated and who.kind != "system"
                    err = TooManyRequests(f"{area}: more than {rate} for {who.name if named else 'this client'}"
                                          f"; retry in {wait} s", parameter=area,
                                          headers={"Retry-After": str(wait)})
                    return await _response(err, headers=err.headers)(scope, receive, send)
        await self.app(scope, receive, send)
