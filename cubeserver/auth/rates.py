"""Per-identity rate limits on executing processes and on data queries: 429 with `Retry-After`.

Counted with the `limits` library (moving window) in `limits.rate_storage`: by default this
process's memory (with several server processes each counts its own share), or a shared storage
(`redis://`, `memcached://`, ...) so every process and machine counts against one limit. Calls
to a network storage run in a worker thread, never on the event loop; if the storage cannot be
reached the request is let through (failing open, logged) rather than refused. The key is the identity's name when the client
signed in, else its address, so one anonymous client cannot starve the others. Zarr chunk
reads and metadata are not counted: a notebook opening a cube makes hundreds of them. OPeNDAP data
answers (`.dods`, `.dap`, `.ascii`) count as queries; its metadata (`.dds`, `.das`, `.dmr`) does not.
"""

from __future__ import annotations

import logging
import math
import re
import time

from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool

from ..errors import TooManyRequests, _response  # noqa: F401 - re-exported
from ..http.prefix import route_path
from . import identity as ident
from .middleware import area_of

log = logging.getLogger("cubeserver.auth")

_QUERIES = re.compile(r"^/collections/[^/]+(/instances/[^/]+)?/(position|radius|area|cube|trajectory|corridor|items|"
                      r"locations(/[^/]+)?|coverage(/[^/]+)?|map|tiles/.+|opendap\.(dods|dap|ascii|asc))/?$")


def rate_area(method: str, path: str) -> str | None:
    """`execute` for process execution, `data` for data queries, None for everything else."""
    if area_of(method, path) == "processes":
        return "execute"
    if method in ("GET", "HEAD") and _QUERIES.match(path):
        return "data"
    return None


class RateLimitMiddleware:
    """Pure ASGI, inside the auth layer (it reads the request's identity)."""

    def __init__(self, app, rates: dict[str, str | None], storage: str = "memory://"):
        self.app = app
        self.rates = {area: parse(text) for area, text in rates.items() if text}
        self.local = storage.startswith("memory://")
        self.limiter = MovingWindowRateLimiter(MemoryStorage() if self.local else storage_from_string(storage))

    def _check(self, rate, area: str, key: str) -> float | None:
        """None when the hit is allowed, else the seconds until the window lets the next one in."""
        try:
            if self.limiter.hit(rate, area, key):
                return None
            return self.limiter.get_window_stats(rate, area, key).reset_time - time.time()
        except Exception as e:  # noqa: BLE001 - a storage outage must not refuse every request
            log.warning("rate limit storage unreachable (%s); request let through", type(e).__name__)
            return None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.rates:
            area = rate_area(scope["method"], route_path(scope))
            rate = self.rates.get(area)
            if rate is not None:
                who = ident.current()
                key = who.name if who.authenticated and who.kind != "system" else f"ip:{(scope.get('client') or ('?',))[0]}"
                left = self._check(rate, area, key) if self.local else await run_in_threadpool(self._check, rate, area, key)
                if left is not None:
                    wait = max(1, math.ceil(left))
                    named = who.authenticated and who.kind != "system"
                    err = TooManyRequests(f"{area}: more than {rate} for {who.name if named else 'this client'}"
                                          f"; retry in {wait} s", parameter=area,
                                          headers={"Retry-After": str(wait)})
                    return await _response(err, headers=err.headers)(scope, receive, send)
        await self.app(scope, receive, send)
