"""Processes-specific exception types (no-such-process, no-such-job, result-not-ready).

OGC API - Processes names these types in its own namespace; clients such as OWSLib
and the CITE suite look for them, so they get their own `type` URIs.
"""

from __future__ import annotations

from ..errors import APIError, NotFound

PROCESSES_EXC = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0"


class _ProcessesNotFound(NotFound):
    def body(self) -> dict:
        body = super().body()
        body["type"] = f"{PROCESSES_EXC}/{self.kind}"
        return body


class NoSuchProcess(_ProcessesNotFound):
    kind = "no-such-process"


class NoSuchJob(_ProcessesNotFound):
    kind = "no-such-job"


class ResultNotReady(_ProcessesNotFound):
    kind = "result-not-ready"


class JobFailed(APIError):
    """The stored error of a failed job, replayed on /jobs/{id}/results."""

    def __init__(self, body: dict, retry_after: float | None = None):
        status = int(body.get("status", 500))
        headers = {"Retry-After": str(int(retry_after))} if status == 503 and retry_after else None
        super().__init__(body.get("detail", "the job failed"), status=status, headers=headers)
        self._body = dict(body)

    def body(self) -> dict:
        return dict(self._body)


class Cancelled(Exception):
    """Raised inside a job when it was dismissed while running."""
