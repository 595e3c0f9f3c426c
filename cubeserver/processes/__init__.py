"""OGC API - Processes 1.0 on dask: built-in processes, durable jobs, results as collections.

`install(app, ctx)` mounts /processes and /jobs, registers the job manager as
`ctx.services["jobs"]` and ties its start (orphan recovery) and stop (cancel jobs,
close the dask client) to the application's lifespan.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from ..context import run_blocking
from .catalog import builtin_processes
from .manager import JobManager
from .routes import build_router

CONFORMANCE = [
    f"http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/{c}"
    for c in ("core", "ogc-process-description", "json", "html", "oas30", "job-list", "dismiss")
]


def install(app, ctx) -> None:
    jobs = JobManager(ctx, builtin_processes())
    ctx.services["jobs"] = jobs
    ctx.registry.sources.append(jobs.collections)  # job-{id} collections, looked up in the job store
    ctx.conformance.extend(CONFORMANCE)
    app.include_router(build_router(ctx, jobs))

    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        # wraps whatever lifespan is there, so other standards' startup hooks keep running
        await run_blocking(jobs.start)
        try:
            async with previous(a) as state:
                yield state
        finally:
            await run_blocking(jobs.close)
            if jobs.collections in ctx.registry.sources:
                ctx.registry.sources.remove(jobs.collections)

    app.router.lifespan_context = lifespan
