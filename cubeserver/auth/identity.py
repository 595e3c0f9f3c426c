"""Who is asking: the identity of the current request, and what it may see.

A context variable, set by `AuthMiddleware` for each request and copied into the worker
threads that run its array work (`context.run_blocking`). Code outside a request (start-up,
job threads) runs as `SYSTEM`, which sees everything.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    """`name` is what jobs record as their submitter; `roles` come from the key or the token."""

    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    kind: str = "user"  # user | anonymous | system

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"

    def has_any(self, roles) -> bool:
        return self.kind == "system" or bool(self.roles & set(roles))


ANONYMOUS = Identity("anonymous", kind="anonymous")
SYSTEM = Identity("system", kind="system")

_current: ContextVar[Identity] = ContextVar("cubeserver_identity", default=SYSTEM)


def current() -> Identity:
    return _current.get()


def set_current(identity: Identity):
    return _current.set(identity)


def reset(token) -> None:
    _current.reset(token)


def may_see(collection_config) -> bool:
    """A collection without `access` is public; a private one needs one of its roles."""
    access = getattr(collection_config, "access", None)
    return access is None or current().has_any(access.roles)
