"""HTTP: /processes, /processes/{id}, /processes/{id}/execution, /jobs, /jobs/{id}[/results[/{output}]]."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..context import AppContext, json_response, link, run_blocking
from ..errors import BadRequest
from ..negotiate import choose
from . import execute as ex
from . import policy
from .errors import JobFailed, NoSuchJob, NoSuchProcess, ResultNotReady
from .manager import JobManager
from .store import STATUSES, Job

F = Query(None, description="response format: json or html (overrides Accept)")
# /req/core/pl-limit-definition, /req/job-list/limit-definition; larger limits are reduced (Processes 7.6)
LIMIT_DEFAULT, LIMIT_MAX = 10, 10_000
REL = "http://www.opengis.net/def/rel/ogc/1.0"
EXECUTE_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {
        "type": "object",
        "properties": {
            "inputs": {"type": "object", "additionalProperties": True, "description": "input id -> value"},
            "outputs": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                "transmissionMode": {"type": "string", "enum": ["value", "reference"]},
                "format": {"type": "object", "properties": {"mediaType": {"type": "string"}}}}}},
            "response": {"type": "string", "enum": ["raw", "document"], "default": "raw"},
        }},
        "example": {"inputs": {"message": "hello"}, "response": "document"}}},
}
EXECUTE_RESPONSES = {
    200: {"description": "sync: the one requested output as itself (`response: raw`), or the results document "
                         "(`response: document`, or several outputs); header Link rel=monitor names the job"},
    201: {"description": "async (`Prefer: respond-async`): the job's status info; header Location is the job"},
    204: {"description": "sync, `response: raw`, one output by reference: no body, header Link points to the output"},
    400: {"description": "the execute request or an input is invalid (exception names the parameter)"},
    404: {"description": "no such process"},
}
PREFER = {"parameters": [{"name": "Prefer", "in": "header", "required": False, "schema": {"type": "string"},
                          "description": "`respond-async` to run as a job (201 + Location)"}]}


def status_doc(job: Job, base: str) -> dict:
    href = f"{base}/jobs/{job.id}"
    doc = {
        "processID": job.process_id, "type": "process", "jobID": job.id, "status": job.status,
        "message": job.message, "created": job.created, "started": job.started, "finished": job.finished,
        "updated": job.updated, "progress": job.progress,
        "links": [link(href, "self", "application/json", "job status"),
                  link(f"{href}?f=html", "alternate", "text/html", "job status as HTML"),
                  link(f"{base}/processes/{job.process_id}", "up", "application/json", "the process")],
    }
    if job.status == "successful":
        doc["links"].append(link(f"{href}/results", f"{REL}/results", "application/json", "results"))
        doc["links"].append(link(f"{href}/results", "results", "application/json", "results"))
        for oid, entry in job.results.items():
            doc["links"].append(link(f"{href}/results/{oid}", "item", entry["mediaType"], f"output {oid}"))
            if entry["kind"] == "coverage":
                doc["links"].append(link(f"{base}/collections/{JobManager.collection_id(job.id)}", "related",
                                         "application/json", "the result as a collection (EDR, Coverages)"))
    return {k: v for k, v in doc.items() if v is not None}


def build_router(ctx: AppContext, jobs: JobManager) -> APIRouter:
    r = APIRouter(tags=["Processes"])

    def process_or_404(pid: str):
        p = jobs.processes.get(pid)
        if p is None:
            raise NoSuchProcess(f"no process {pid!r}; see /processes", parameter="processId")
        return p

    @r.get("/processes", summary="The processes this server can run")
    def processes(request: Request, f: str | None = F,
                  limit: int = Query(LIMIT_DEFAULT, ge=1, le=2**62, json_schema_extra={"maximum": LIMIT_MAX},
                                     description=f"at most this many process summaries (1 to {LIMIT_MAX}; more is a "
                                                 "400, as the documented maximum says: /req/core/pl-limit-definition)"),
                  offset: int = Query(0, ge=0, le=2**62, description="skip this many summaries (paging; see the next link)")):
        fmt = choose(request, f, ["json", "html"])
        base = ctx.base_url(request)
        check_limit(limit)
        found = list(jobs.processes.values())
        page = found[offset:offset + limit]
        doc = {"processes": [p.summary(base) for p in page],
               "links": _page_links(base, "/processes", request, offset, limit, len(found), len(page))}
        if fmt == "html":
            return ctx.html("processes_list.html", request, doc, "Processes")
        return json_response(doc)

    @r.get("/processes/{processId}", summary="A process description (inputs and outputs as JSON Schema)")
    def process(processId: str, request: Request, f: str | None = F):
        p = process_or_404(processId)
        fmt = choose(request, f, ["json", "html"])
        doc = p.describe(ctx.base_url(request))
        if fmt == "html":
            return ctx.html("processes_detail.html", request, doc, p.title)
        return json_response(doc)

    def _accept(p, raw_inputs, base: str, options: dict, mode: str):
        """Resolve input references, check the inputs, write the job: (job, future); 400s name the input."""
        inputs = ex.resolve_references(raw_inputs, base, jobs)
        params = p.validate(inputs, ctx)
        return jobs.submit(p, params, inputs, options, mode)

    @r.post("/processes/{processId}/execution", summary="Execute a process (synchronously unless Prefer: respond-async)",
            openapi_extra={"requestBody": EXECUTE_BODY, **PREFER}, status_code=200, responses=EXECUTE_RESPONSES)
    async def execution(processId: str, request: Request):
        p = process_or_404(processId)
        body = ex.parse_body(await request.body())
        options = ex.request_options(p, body)
        base = ctx.base_url(request)
        async_ = "respond-async" in request.headers.get("prefer", "").lower()
        # references, input checks and the job store write in ONE worker-thread hop: each hop costs a
        # thread wake-up and GIL hand-over (~0.5-1 ms on a busy 2-core machine), a third of a submit
        job, future = await run_blocking(_accept, p, body.get("inputs", {}), base, options, "async" if async_ else "sync")
        if async_:
            return json_response(status_doc(job, base), status=201, headers={
                "Location": f"{base}/jobs/{job.id}", "Preference-Applied": "respond-async"})
        await asyncio.wrap_future(future)
        job = await run_blocking(jobs.get, job.id)
        if job.status == "failed":
            raise JobFailed(job.error or {}, retry_after=ctx.config.remote.retry_s)
        if job.status != "successful":
            raise NoSuchJob(f"job {job.id} was {job.status}", parameter="jobId")
        headers = {"Link": f'<{base}/jobs/{job.id}>; rel="monitor"'}
        if options["response"] == "document":
            resp = json_response(ex.results_document(job, base, jobs.files(job.id)))
        else:
            resp = ex.raw_response(job, base, jobs.files(job.id))
        for k, v in headers.items():
            resp.headers.append(k, v)
        return resp

    @r.get("/jobs", summary="Jobs, newest first")
    def job_list(request: Request, f: str | None = F,
                 limit: int = Query(LIMIT_DEFAULT, ge=1, le=2**62, json_schema_extra={"maximum": LIMIT_MAX},
                                    description=f"at most this many jobs (1 to {LIMIT_MAX}; more is a 400, as the "
                                                "documented maximum says: /req/job-list/limit-definition)"),
                 offset: int = Query(0, ge=0, le=2**62, description="skip this many jobs (paging; see the next link)"),
                 status: list[str] | None = Query(None, description="accepted, running, successful, failed, dismissed"),
                 processID: list[str] | None = Query(None, description="only jobs of these processes"),
                 type: list[str] | None = Query(None, description="job type; this server runs `process` jobs",  # noqa: A002
                                                json_schema_extra={"items": {"type": "string", "enum": ["process"]}}),
                 datetime: str | None = Query(None, description="creation time: instant or interval (`a/b`, `..`)"),
                 minDuration: float | None = Query(None, ge=0, description="seconds from start to finish (or now)"),
                 maxDuration: float | None = Query(None, ge=0, description="seconds from start to finish (or now)")):
        fmt = choose(request, f, ["json", "html"])
        check_limit(limit)
        statuses = _split(status)
        bad = [s for s in statuses if s not in STATUSES]
        if bad:
            raise BadRequest(f"status: {bad[0]!r} is not one of {', '.join(STATUSES)}", parameter="status")
        bad = [t for t in _split(type) if t != "process"]
        if bad:  # /req/job-list/type-definition: the one job type of Part 1 (others belong to other specs)
            raise BadRequest(f"type: {bad[0]!r} is not a job type of this server; allowed: process", parameter="type")
        mine = None if policy.sees_all(jobs.admin_role) else policy.submitter()  # only one's own jobs
        found, total = jobs.store.list(status=statuses, process_ids=_split(processID), created=_created(datetime),
                                       min_duration=minDuration, max_duration=maxDuration,
                                       limit=limit, offset=offset, submitter=mine)
        base = ctx.base_url(request)
        doc = {"jobs": [status_doc(j, base) for j in found], "numberMatched": total, "numberReturned": len(found),
               "links": _page_links(base, "/jobs", request, offset, limit, total, len(found))}
        if fmt == "html":
            return ctx.html("jobs_list.html", request, doc, "Jobs")
        return json_response(doc)

    @r.get("/jobs/{jobId}", summary="Status of a job")
    def job_status(jobId: str, request: Request, f: str | None = F):
        fmt = choose(request, f, ["json", "html"])
        job = jobs.get(jobId)
        doc = status_doc(job, ctx.base_url(request))
        if fmt == "html":
            doc["inputs"] = job.inputs
            if job.status == "successful":
                doc["results"] = job.results
            if job.status == "failed":
                doc["error"] = job.error
            return ctx.html("jobs_detail.html", request, doc, f"Job {job.id}")
        return json_response(doc)

    @r.delete("/jobs/{jobId}", summary="Dismiss a job: cancel it and delete its results")
    def dismiss(jobId: str, request: Request):
        return json_response(status_doc(jobs.dismiss(jobId), ctx.base_url(request)))

    def finished(jobId: str) -> Job:
        job = jobs.get(jobId)
        if job.status == "failed":
            raise JobFailed(job.error or {}, retry_after=ctx.config.remote.retry_s)
        if job.status == "dismissed":
            raise NoSuchJob(f"job {jobId} was dismissed; its results were deleted", parameter="jobId")
        if job.status != "successful":
            raise ResultNotReady(f"job {jobId} is {job.status} ({job.progress}%); its results are not ready",
                                 parameter="jobId")
        return job

    @r.get("/jobs/{jobId}/results", summary="Results of a finished job")
    def job_results(jobId: str, request: Request):
        job = finished(jobId)
        return json_response(ex.results_document(job, ctx.base_url(request), jobs.files(job.id)))

    @r.get("/jobs/{jobId}/results/{outputId}", summary="One output of a finished job, as itself")
    def job_output(jobId: str, outputId: str) -> Response:
        job = finished(jobId)
        entry = job.results.get(outputId)
        if entry is None:
            raise NoSuchJob(f"job {jobId} has no output {outputId!r}; outputs are {', '.join(job.results)}",
                            parameter="outputId")
        return ex.output_content(entry, jobs.files(job.id), outputId)

    return r


def check_limit(limit: int, maximum: int = LIMIT_MAX) -> None:
    """A `limit` over the maximum the API definition declares is an invalid value: 400 (OGC API Common
    /req/core/query-param-invalid), so the server never contradicts its own OpenAPI document."""
    if limit > maximum:
        raise BadRequest(f"limit: at most {maximum}; page with offset and the next links", parameter="limit")


def _created(text: str | None) -> tuple[str | None, str | None] | None:
    """The job list's `datetime` as a [start, end) range of store timestamps (UTC, Gregorian)."""
    from datetime import timedelta

    from ..query.cftimes import to_utc_datetime
    from ..query.parse import parse_datetime

    sel = parse_datetime(text, "datetime")
    if sel is None:
        return None
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"

    def at(ct, role):
        t, exclusive = to_utc_datetime(ct, role, "datetime")
        return t if exclusive or role != "end" else t + timedelta(microseconds=1)

    if sel.interval:
        return tuple(None if ct is None else at(ct, role).strftime(fmt)
                     for ct, role in ((sel.start, "start"), (sel.end, "end")))
    if len(sel.instants) != 1:
        raise BadRequest("datetime: give one instant or an interval", parameter="datetime")
    t = at(sel.instants[0], "instant")
    return t.strftime(fmt), (t + timedelta(seconds=1)).strftime(fmt)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _page(base: str, path: str, request: Request, offset: int, limit: int, f: str = "json") -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit", "f")]
    return f"{base}{path}?{urlencode([*params, ('offset', offset), ('limit', limit), ('f', f)])}"


def _page_links(base: str, path: str, request: Request, offset: int, limit: int, total: int, returned: int) -> list:
    """self + alternate (HTML) for this page; `next` while more remain, `prev` after the first page.

    /req/core/pl-links and /req/job-list/links (self, alternate); the `next`/`prev` links of the
    Processes "limit parameter" clause (7.6), built from `offset` so they stay plain URLs.
    """
    out = [link(_page(base, path, request, offset, limit), "self", "application/json", "this page"),
           link(_page(base, path, request, offset, limit, "html"), "alternate", "text/html", "this page as HTML")]
    if offset + returned < total:
        out.append(link(_page(base, path, request, offset + limit, limit), "next", "application/json", "next page"))
    if offset > 0:
        out.append(link(_page(base, path, request, max(offset - limit, 0), limit), "prev", "application/json",
                        "previous page"))
    return out
