"""`/health` (the process answers) and `/ready` (collections opened, job store reachable).

Kubernetes-style probes: liveness must stay cheap and never touch data or the database, so a
slow store does not get the process killed; readiness checks what a request needs and is a
503 with the failing check named when one fails, so a load balancer sends traffic elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..context import AppContext, json_response, run_blocking

TAG = "Operations"
MEDIA = "application/health+json"  # draft-inadarei-api-health-check, as used by Kubernetes tooling


def install(app, ctx: AppContext) -> None:
    r = APIRouter(tags=[TAG])

    @r.get("/health", summary="Liveness: the server process answers")
    def health():
        return json_response({"status": "pass"}, media_type=MEDIA)

    @r.get("/ready", summary="Readiness: collections are open and the job store answers (503 otherwise)")
    async def ready(request: Request):
        checks = await run_blocking(_checks, ctx)
        ok = all(c["status"] == "pass" for c in checks.values())
        body = {"status": "pass" if ok else "fail", "checks": checks}
        return json_response(body, media_type=MEDIA, status=200 if ok else 503,
                             headers=None if ok else {"Retry-After": "10"})

    app.include_router(r)


def _checks(ctx: AppContext) -> dict:
    """{name: {"status": "pass"|"fail", "output"?: str}} for collections and the job store."""
    out = {}
    n = sum(1 for _ in ctx.registry)
    out["collections"] = {"status": "pass" if n else "fail", "observedValue": n,
                          **({} if n else {"output": "no collection is open"})}
    jobs = ctx.services.get("jobs")
    if jobs is not None:
        try:
            jobs.store.list(limit=1)
            out["jobs:store"] = {"status": "pass"}
        except Exception as e:  # any driver error means not ready; name its kind, never its text (may hold a DSN)
            out["jobs:store"] = {"status": "fail", "output": f"job store unreachable ({type(e).__name__})"}
    return out
