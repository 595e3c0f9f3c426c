"""`/health` (the process answers) and `/ready` (collections opened, job store reachable).

Kubernetes-style probes: liveness must stay cheap and never touch data or the database, so a
slow store does not get the process killed; readiness checks what a request needs and is a
503 with the failing check named when one fails, so a load balancer sends traffic elsewhere.
Both are negotiated like every other resource (`f=` or Accept, cubeserver.negotiate):
`application/health+json` (draft-inadarei-api-health-check; plain `application/json` gets it too),
an HTML page, or `text/plain` (one `name: status` line each); anything else is a 406.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from ..context import AppContext, json_response, run_blocking
from ..negotiate import choose

TAG = "Operations"
MEDIA = "application/health+json"  # draft-inadarei-api-health-check, as used by Kubernetes tooling
FORMATS = ["health", "html", "text"]
F_PARAM = Query(None, description="response format: json (application/health+json), html or text (overrides Accept)")


def install(app, ctx: AppContext) -> None:
    r = APIRouter(tags=[TAG])

    @r.get("/health", summary="Liveness: the server process answers")
    def health(request: Request, f: str | None = F_PARAM):
        return _answer(ctx, request, _format(request, f), {"status": "pass"}, "Health")

    @r.get("/ready", summary="Readiness: collections are open and the job store answers (503 otherwise)")
    async def ready(request: Request, f: str | None = F_PARAM):
        fmt = _format(request, f)  # a 406 before any check runs
        checks = await run_blocking(_checks, ctx)
        ok = all(c["status"] == "pass" for c in checks.values())
        body = {"status": "pass" if ok else "fail", "checks": checks}
        return _answer(ctx, request, fmt, body, "Readiness", status=200 if ok else 503,
                       headers=None if ok else {"Retry-After": "10"})

    app.include_router(r)


def _format(request: Request, f: str | None) -> str:
    """`f=json` means the health JSON here (its media type is application/health+json)."""
    if f and f.strip().lower() in ("json", "application/json"):
        f = "health"
    return choose(request, f, FORMATS)


def _answer(ctx: AppContext, request: Request, fmt: str, body: dict, title: str, status: int = 200,
            headers: dict | None = None):
    if fmt == "html":
        page = ctx.html("health.html", request, body, title, status=status)
        page.headers.update(headers or {})
        return page
    if fmt == "text":
        lines = [f"status: {body['status']}"]
        lines += [f"{name}: {c['status']}" + (f" ({c['output']})" if c.get("output") else "")
                  for name, c in body.get("checks", {}).items()]
        return PlainTextResponse("\n".join(lines) + "\n", status_code=status, headers=headers)
    return json_response(body, media_type=MEDIA, status=status, headers=headers)


def _checks(ctx: AppContext) -> dict:
    """{name: {"status": "pass"|"fail", "output"?: str}} for collections, the job store and (object) result storage."""
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
        if jobs.storage.remote:  # results on object storage: the bucket must answer
            try:
                jobs.storage.check()
                out["jobs:results"] = {"status": "pass"}
            except Exception as e:  # noqa: BLE001 - the kind only: the text may name endpoints or keys
                out["jobs:results"] = {"status": "fail", "output": f"job result storage unreachable ({type(e).__name__})"}
    return out
