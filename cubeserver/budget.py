"""A server-wide memory budget for data answers in flight: over it, a 503 with `Retry-After`.

`limits.max_cells` caps one answer; this caps their sum, so 16 clients asking for large
cubes at once get some answers now and a 503 (retry shortly) for the rest, instead of the
server swapping or being killed for memory. Each request gets a `Reservation` (a context
variable set by `BudgetMiddleware`); the size guard (`select.core.guard_size`) books the
answer's estimated bytes on it before anything is read, and the middleware gives them back
when the last byte of the answer has been sent (streamed answers included) or the request
ends otherwise. One answer larger than the whole budget is still served when nothing else
is booked, so the budget never refuses what `max_cells` allows.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar

from .errors import ServerBusy  # noqa: F401 - re-exported

RETRY_AFTER_S = 5


class MemoryBudget:
    """Bytes booked by answers in flight, out of `total` (thread-safe)."""

    def __init__(self, total: int):
        self.total = total
        self.used = 0
        self._lock = threading.Lock()

    def book(self, nbytes: int) -> None:
        """Raise ServerBusy (503) if `nbytes` more would pass the budget while others are booked."""
        with self._lock:
            if self.used and self.used + nbytes > self.total:
                raise ServerBusy(
                    f"the server is busy with other large answers ({self.used / 2**20:,.0f} MiB of its "
                    f"{self.total / 2**20:,.0f} MiB budget); retry in a few seconds or ask for less",
                    headers={"Retry-After": str(RETRY_AFTER_S)})
            self.used += nbytes

    def give_back(self, nbytes: int) -> None:
        with self._lock:
            self.used = max(0, self.used - nbytes)


class Reservation:
    """What one request has booked; given back once, when the request is over."""

    def __init__(self, budget: MemoryBudget):
        self.budget = budget
        self.nbytes = 0

    def book(self, nbytes: int) -> None:
        self.budget.book(nbytes)
        self.nbytes += nbytes

    def close(self) -> None:
        nbytes, self.nbytes = self.nbytes, 0
        if nbytes:
            self.budget.give_back(nbytes)


_current: ContextVar[Reservation | None] = ContextVar("cubeserver_reservation", default=None)


def book_answer(values: int, itemsize: int) -> None:
    """Book an answer of `values` numbers of `itemsize` bytes on the current request, if any.

    The estimate counts the values read plus their encoded form (about 10 bytes per number as
    text; binary formats need less, so it errs on the safe side).
    """
    reservation = _current.get()
    if reservation is not None and values > 0:
        reservation.book(values * (max(itemsize, 1) + 10))


class BudgetMiddleware:
    """Pure ASGI: one Reservation per HTTP request, given back after the final body message."""

    def __init__(self, app, budget: MemoryBudget):
        self.app = app
        self.budget = budget

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        reservation = Reservation(self.budget)
        token = _current.set(reservation)

        async def send_and_release(message):
            try:
                await send(message)
            finally:
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    reservation.close()

        try:
            await self.app(scope, receive, send_and_release)
        finally:
            reservation.close()
            _current.reset(token)
