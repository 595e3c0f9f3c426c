"""The process tools: list, describe, execute (asynchronous by default), job status and results.

Everything goes through the job manager the HTTP API uses (`ctx.services["jobs"]`,
cubeserver/processes/manager.py) and the execute rules of `processes.execute`: the same input
validation (400 naming the input), capacity limits (429/503), job ownership (another identity's
job is a 404) and stored results. A job started here is visible on `/jobs` and the other way round.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any

from ..context import run_blocking
from ..processes import execute as ex
from ..processes.errors import JobFailed, NoSuchJob, NoSuchProcess, ResultNotReady
from ..processes.results import read_value
from .calls import Env
from .models import JobInfo, JobResults, OutputSummary, ProcessDescription, ProcessList, ProcessSummary


def _jobs(env: Env):
    jobs = env.app.services.get("jobs")
    if jobs is None:
        raise NoSuchProcess("this server runs no processes", parameter="processId")
    return jobs


def _process(env: Env, pid: str):
    p = _jobs(env).processes.get(pid)
    if p is None:
        raise NoSuchProcess(f"no process {pid!r}; see list_processes (or /processes)", parameter="processId")
    return p


SUMMARY_CHARS = 200  # of a process description in list_processes (describe_process has all of it)


def _matches(p, words: list[str]) -> bool:
    text = " ".join([p.id, p.title, p.description, " ".join(map(str, p.keywords or []))]).lower()
    return all(w in text for w in words)


def _short(text: str) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1].rstrip() + "…"


def list_processes(env: Env, text: str | None = None, limit: int = 50, offset: int = 0) -> ProcessList:
    """The processes whose id, title, description or keywords contain every word of `text`, one page at a
    time (the xclim catalogue alone is ~340 processes: all of them would not fit an agent's context)."""
    words = [w for w in (text or "").lower().split() if w]
    found = [p for p in _jobs(env).processes.values() if _matches(p, words)]
    page = found[offset:offset + limit]
    more = offset + len(page) < len(found)
    return ProcessList(processes=[ProcessSummary(id=p.id, title=p.title, description=_short(p.description),
                                                 inputs=list(p.inputs), outputs=list(p.outputs)) for p in page],
                       number_matched=len(found), next_offset=offset + len(page) if more else None)


def describe_process(env: Env, pid: str) -> ProcessDescription:
    doc = _process(env, pid).describe(env.base)
    return ProcessDescription(id=doc["id"], title=doc["title"], description=doc["description"], inputs=doc["inputs"],
                              outputs=doc["outputs"], url=f"{env.base}/processes/{pid}")


def job_info(env: Env, job) -> JobInfo:
    href = f"{env.base}/jobs/{job.id}"
    return JobInfo(job_id=job.id, process_id=job.process_id, status=job.status, progress=job.progress,
                   message=job.message or None, created=job.created, started=job.started, finished=job.finished,
                   status_url=href, results_url=f"{href}/results" if job.status == "successful" else None,
                   error=job.error if job.status == "failed" else None)


def execute_process(env: Env, pid: str, inputs: dict, outputs: dict | None, wait: bool) -> tuple[Any, Future]:
    """Validate the inputs as POST /processes/{id}/execution does, then queue the job (sync with `wait`):
    the job and its future, for `job_ended`."""
    p = _process(env, pid)
    jobs = _jobs(env)
    body = {"inputs": inputs if inputs is not None else {}, "response": "document"}
    if outputs is not None:
        body["outputs"] = outputs
    options = ex.request_options(p, body)
    resolved = ex.resolve_references(body["inputs"], env.base, jobs)
    params = p.validate(resolved, env.app)
    return jobs.submit(p, params, resolved, options, "sync" if wait else "async")


async def job_ended(env: Env, submitted: tuple[Any, Future], wait: bool) -> JobInfo:
    """The job's info at once, or with `wait` once it ended: awaited on the event loop as the HTTP synchronous
    execution does, so waiting agents hold no worker thread (a few of them would stall every data query)."""
    job, future = submitted
    if wait:
        await asyncio.wrap_future(future)
        job = await run_blocking(_jobs(env).get, job.id)
    return job_info(env, job)


def job_status(env: Env, job_id: str) -> JobInfo:
    return job_info(env, _jobs(env).get(job_id))


def _count_numbers(value) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return 1
    if isinstance(value, dict):
        return sum(_count_numbers(v) for v in value.values()) or 1
    if isinstance(value, list):
        return sum(_count_numbers(v) for v in value) or len(value)
    return 1


def job_results(env: Env, job_id: str) -> JobResults:
    """A finished job's outputs: small JSON values inline (up to mcp.max_values numbers), links for the
    rest, and the collection id of gridded results (query it like any collection)."""
    jobs = _jobs(env)
    job = jobs.get(job_id)
    if job.status == "failed":
        raise JobFailed(job.error or {})
    if job.status == "dismissed":
        raise NoSuchJob(f"job {job_id} was dismissed; its results were deleted", parameter="jobId")
    if job.status != "successful":
        raise ResultNotReady(f"job {job_id} is {job.status} ({job.progress}%); its results are not ready; "
                             "poll job_status", parameter="jobId")
    href = f"{env.base}/jobs/{job.id}/results"
    outputs, budget = [], env.max_values
    for oid, entry in job.results.items():
        out = OutputSummary(id=oid, kind=entry["kind"], media_type=entry["mediaType"], href=f"{href}/{oid}")
        if entry["kind"] == "coverage":
            out.collection = job.collection
            out.variables = entry.get("variables")
        elif entry["mediaType"] in ("application/json", "application/geo+json"):
            value = entry["value"] if entry["kind"] == "value" else read_value(entry, jobs.files(job.id))
            n = _count_numbers(value)
            if n <= budget:
                out.value, budget = value, budget - n
            else:
                out.truncated = True
        elif entry["kind"] == "value" and isinstance(entry.get("value"), str) and len(entry["value"]) <= 4 * budget:
            out.value = entry["value"]
        else:
            out.truncated = True
        outputs.append(out)
    return JobResults(job_id=job.id, process_id=job.process_id, status=job.status, outputs=outputs, results_url=href)


__all__ = ["list_processes", "describe_process", "execute_process", "job_ended", "job_status", "job_results"]
