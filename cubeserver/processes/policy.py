"""Who may see which job, how many jobs one identity may have in flight, and how long jobs live.

Jobs belong to their submitter (the identity's name; empty on an open server, where every job
is everyone's): only the submitter or an identity with `auth.admin_role` lists, reads and
dismisses them, and to anyone else a job is a 404, like one that never existed. Caps keep one
client from filling the queue (issue 13: 500 slow jobs from one client were all accepted).
"""

from __future__ import annotations

from ..auth import identity as ident
from ..errors import ServerBusy, TooManyJobs  # noqa: F401 - re-exported
from .store import Job, JobStore


def submitter() -> str:
    """The name jobs record for the current request's identity ('' when nobody signed in)."""
    who = ident.current()
    return who.name if who.authenticated and who.kind != "system" else ""


def sees_all(admin_role: str | None) -> bool:
    """True on open servers, for code outside requests, and for the admin role."""
    who = ident.current()
    return admin_role is None or who.kind == "system" or who.has_any([admin_role])


def may_access(job: Job, admin_role: str | None) -> bool:
    return sees_all(admin_role) or job.submitter == submitter()


def admit(store: JobStore, job: Job, per_identity: int, total: int) -> None:
    """Create `job` in `store` within the limits: TooManyJobs (429) when its submitter already has `per_identity`
    jobs queued or running, ServerBusy (503) when the server has `total`. Counted and inserted together
    (`JobStore.create_within`); refused by a count that has since dropped (a job just finished), it tries once
    more before answering 503."""
    for _ in range(2):
        refused = store.create_within(job, per_identity, total)
        if refused is None:
            return
        mine, everyone = refused
        if mine >= per_identity:
            raise TooManyJobs(f"{per_identity} jobs of yours are already queued or running (limits.max_jobs_per_identity); "
                              "wait for one to finish or dismiss one", parameter="jobs", headers={"Retry-After": "10"})
        if everyone >= total:
            break
    raise ServerBusy(f"the server has {total} jobs queued or running (limits.max_jobs); retry shortly",
                     headers={"Retry-After": "10"})
