"""The MCP server: tools (JSON Schema inputs, typed results), collection resources and prompts.

`build_server(ctx)` returns an `mcp.server.mcpserver.MCPServer` (the official SDK; arguments.Server words
its refusals of bad arguments like the HTTP API) whose tools are thin: each names its auth area and rate (see calls.run_tool) and calls one function of catalog,
series, links, views or jobs, which call the same parse/select/encode functions and job manager
as the HTTP routers.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

import orjson
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from .. import __version__
from ..auth import identity as ident
from ..errors import APIError
from . import catalog, jobs, links, series, views
from .arguments import Server
from .calls import Caller, Env, run_tool
from .models import (AreaStatistics, CollectionDescription, CollectionList, FeaturesResult, JobInfo, JobResults,
                     MapInfo, PointSeries, ProcessDescription, ProcessList, SubsetLink, VerticalProfile)

INSTRUCTIONS = """cubeserver publishes gridded datacubes (NetCDF, Zarr, GeoTIFF, GRIB) and vector features.
Start with list_collections (a text filter) and describe_collection (axes, units, time range, variables).
Ask small questions: point_series, vertical_profile, area_statistics; for bulk data ask subset_link for a
download URL instead of the values. Longitudes/latitudes are WGS 84 degrees; times RFC 3339 in the
collection's calendar. Processes run as jobs: execute_process returns a job id; poll job_status, then
job_results. Errors say what was wrong and what is allowed, like the server's OGC API answers."""

CollectionId = Annotated[str, Field(min_length=1, max_length=200, description="a collection id (list_collections)")]
Lon = Annotated[float, Field(ge=-180, le=360, description="longitude, degrees east (WGS 84)")]
Lat = Annotated[float, Field(ge=-90, le=90, description="latitude, degrees north (WGS 84)")]
Variables = Annotated[list[str] | None, Field(default=None, description="variable names (default: all that fit)")]
Datetime = Annotated[str | None, Field(default=None, description="RFC 3339 instant, or interval start/end "
                                       "('..' for an open end), in the collection's calendar")]
Z = Annotated[str | float | None, Field(default=None, description="vertical level in the z axis units, e.g. 850; "
                                        "ranges as 'low/high'")]
Extra = Annotated[dict[str, str | int | float] | None, Field(default=None, description="values of extra dimensions "
                                               "(describe_collection axes with role 'other'), e.g. {\"month\": 1}")]
BBox = Annotated[list[float] | None, Field(default=None, min_length=4, max_length=4,
                                           description="[west, south, east, north] in degrees")]

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def build_server(ctx) -> tuple[Server, Caller]:
    """The MCP server for this app context, and its Caller (set `caller.stdio_identity` for stdio)."""
    caller = Caller(ctx)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    server = Server("cubeserver", title=ctx.config.title, version=__version__, instructions=INSTRUCTIONS,
                       log_level="WARNING")
    root.handlers[:], root.level = handlers, level  # the SDK configures root logging; the server's own stays

    @server.tool(annotations=READ)
    async def list_collections(
            ctx: Context,
            text: Annotated[str | None, Field(default=None, max_length=200, description="words that must all "
                                              "appear in the id, title, description, keywords or variable names")] = None,
            kind: Annotated[Literal["coverage", "features"] | None, Field(default=None)] = None,
            limit: Annotated[int, Field(default=50, ge=1, le=500, description="collections per answer")] = 50,
            offset: Annotated[int, Field(default=0, ge=0, description="collections to skip (paging)")] = 0,
    ) -> Annotated[CallToolResult, CollectionList]:
        """Collections you may see: id, title, kind, variables, lon/lat extent, time interval, levels; paged
        (each finished gridded job adds one for its owner)."""
        return await run_tool(caller, ctx, lambda env: catalog.list_collections(env, text, kind, limit, offset),
                              area="data")

    @server.tool(annotations=READ)
    async def describe_collection(ctx: Context, collection: CollectionId) -> Annotated[CallToolResult,
                                                                                     CollectionDescription]:
        """Axes (units, ranges, calendar), variables (units, CF standard names), CRS, the query tools and
        processes that apply, and the collection's HTTP links."""
        return await run_tool(caller, ctx, lambda env: catalog.describe_collection(env, collection), area="data")

    @server.tool(annotations=READ)
    async def point_series(ctx: Context, collection: CollectionId, lon: Lon, lat: Lat, variables: Variables = None,
                           datetime: Datetime = None, z: Z = None,
                           extra: Extra = None) -> Annotated[CallToolResult, PointSeries]:
        """Time series at the grid cell nearest to lon/lat: values with times and units. Long series are
        downsampled (block means) with a summary (min, max, mean, trend per year) of every step, plus the
        EDR URL of the full answer."""
        return await run_tool(caller, ctx, lambda env: series.point_series(
            env, collection, lon, lat, variables, datetime, z, extra), area="data", rate="data")

    @server.tool(annotations=READ)
    async def vertical_profile(ctx: Context, collection: CollectionId, lon: Lon, lat: Lat,
                               variables: Variables = None, datetime: Datetime = None, z: Z = None,
                               extra: Extra = None) -> Annotated[CallToolResult, VerticalProfile]:
        """Values at every level at the cell nearest to lon/lat, at one time step (default: the latest)."""
        return await run_tool(caller, ctx, lambda env: series.vertical_profile(
            env, collection, lon, lat, variables, datetime, z, extra), area="data", rate="data")

    @server.tool(annotations=READ)
    async def area_statistics(
            ctx: Context, collection: CollectionId,
            polygon: Annotated[str | None, Field(default=None, max_length=100_000, description="WKT POLYGON or "
                                                 "MULTIPOLYGON in lon/lat, e.g. 'POLYGON((0 40,10 40,10 50,0 50,0 40))'")] = None,
            bbox: BBox = None, variables: Variables = None, datetime: Datetime = None, z: Z = None,
            extra: Extra = None) -> Annotated[CallToolResult, AreaStatistics]:
        """Per time step: count, min, max, mean (and area-weighted mean on lon/lat grids) of the cells whose
        centre lies in the polygon or bbox. Give polygon or bbox."""
        return await run_tool(caller, ctx, lambda env: series.area_statistics(
            env, collection, polygon, bbox, variables, datetime, z, extra), area="data", rate="data")

    @server.tool(annotations=READ)
    async def subset_link(
            ctx: Context, collection: CollectionId,
            format: Annotated[Literal["netcdf", "geotiff", "covjson", "zarr"], Field(
                default="netcdf", description="netcdf / geotiff / covjson: an OGC API - Coverages URL; zarr: the "
                "lazy Zarr store with the Python that subsets it")] = "netcdf",
            variables: Variables = None, bbox: BBox = None, datetime: Datetime = None,
            z: Z = None) -> Annotated[CallToolResult, SubsetLink]:
        """A download URL for a subset (instead of the data) with its estimated size and whether the
        server's size limit allows it."""
        return await run_tool(caller, ctx, lambda env: links.subset_link(
            env, collection, format, variables, bbox, datetime, z), area="data")

    @server.tool(annotations=READ)
    async def render_map(
            ctx: Context, collection: CollectionId,
            variable: Annotated[str | None, Field(default=None, description="one variable (default: the first)")] = None,
            datetime: Annotated[str | None, Field(default=None, description="one time step (default: the latest)")] = None,
            z: Annotated[str | float | None, Field(default=None, description="one level (default: the first)")] = None,
            bbox: BBox = None,
            width: Annotated[int | None, Field(default=None, ge=16, le=4096, description="pixels (default 512); "
                                               "the height follows the bbox's aspect")] = None,
            style: Annotated[str | None, Field(default=None, max_length=100, description="a style id of the "
                                               "collection's /styles (default: default)")] = None,
    ) -> Annotated[CallToolResult, MapInfo]:
        """A PNG map of one variable (MCP image content) with its OGC API - Maps URL and legend URL."""
        return await run_tool(caller, ctx, lambda env: views.render_map(
            env, collection, variable, datetime, z, bbox, width, style), area="data", rate="data",
            wrap=views.image_result)

    @server.tool(annotations=READ)
    async def features_query(
            ctx: Context, collection: CollectionId, bbox: BBox = None, datetime: Datetime = None,
            filters: Annotated[dict[str, str | float | int | bool] | None, Field(
                default=None, description="property -> value equality filters (the collection's queryables)")] = None,
            properties: Annotated[list[str] | None, Field(default=None, description="properties to return "
                                                          "(default: all)")] = None,
            limit: Annotated[int, Field(default=10, ge=1, le=10_000, description="features per answer")] = 10,
            offset: Annotated[int, Field(default=0, ge=0, description="features to skip (paging)")] = 0,
    ) -> Annotated[CallToolResult, FeaturesResult]:
        """Features of a Features collection by bbox, datetime and property filters: properties, and point
        coordinates or the bbox of other geometries."""
        return await run_tool(caller, ctx, lambda env: views.features_query(
            env, collection, bbox, datetime, filters, properties, limit, offset), area="data", rate="data")

    @server.tool(annotations=READ)
    async def list_processes(
            ctx: Context,
            text: Annotated[str | None, Field(default=None, max_length=200, description="words that must all appear "
                                              "in the id, title, description or keywords, e.g. 'frost' or 'xclim "
                                              "precipitation'")] = None,
            limit: Annotated[int, Field(default=50, ge=1, le=500, description="processes per answer")] = 50,
            offset: Annotated[int, Field(default=0, ge=0, description="processes to skip (paging)")] = 0,
    ) -> Annotated[CallToolResult, ProcessList]:
        """The processes this server runs (ids, titles, short descriptions, input and output names), filtered
        by words and paged: the climate indicators alone are several hundred."""
        return await run_tool(caller, ctx, lambda env: jobs.list_processes(env, text, limit, offset))

    @server.tool(annotations=READ)
    async def describe_process(
            ctx: Context, process_id: Annotated[str, Field(min_length=1, max_length=200)]
    ) -> Annotated[CallToolResult, ProcessDescription]:
        """A process's inputs and outputs with their JSON Schemas."""
        return await run_tool(caller, ctx, lambda env: jobs.describe_process(env, process_id))

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False))
    async def execute_process(
            ctx: Context, process_id: Annotated[str, Field(min_length=1, max_length=200)],
            inputs: Annotated[dict[str, Any], Field(description="input id -> value (describe_process)")],
            outputs: Annotated[dict[str, Any] | None, Field(default=None, description="optional: output id -> "
                                                            "{transmissionMode, format: {mediaType}}")] = None,
            wait: Annotated[bool, Field(default=False, description="false (default): return the job id at once; "
                                        "true: wait until the job ends")] = False,
    ) -> Annotated[CallToolResult, JobInfo]:
        """Run a process as a job (asynchronous by default): returns the job id and status; poll
        job_status, then read job_results."""
        return await run_tool(caller, ctx, lambda env: jobs.execute_process(env, process_id, inputs, outputs, wait),
                              area="processes", rate="execute", then=lambda env, job: jobs.job_ended(env, job, wait))

    @server.tool(annotations=READ)
    async def job_status(ctx: Context, job_id: Annotated[str, Field(min_length=1, max_length=64)]
                         ) -> Annotated[CallToolResult, JobInfo]:
        """Status of one of your jobs: accepted, running (progress %), successful, failed (with the error)."""
        return await run_tool(caller, ctx, lambda env: jobs.job_status(env, job_id), area="jobs")

    @server.tool(annotations=READ)
    async def job_results(ctx: Context, job_id: Annotated[str, Field(min_length=1, max_length=64)]
                          ) -> Annotated[CallToolResult, JobResults]:
        """A finished job's outputs: small values inline, links for the rest; gridded results are also a
        collection you can query with the other tools."""
        return await run_tool(caller, ctx, lambda env: jobs.job_results(env, job_id), area="jobs")

    _resources(server, caller)
    _prompts(server)
    return server, caller


def _resources(server: Server, caller: Caller) -> None:
    @server.resource("cubeserver://collections", name="collections", mime_type="application/json",
                     description="every collection you may see (list_collections without a filter)")
    async def collections_resource() -> str:
        return await _read(caller, lambda env: catalog.list_collections(env, None, None))

    @server.resource("cubeserver://collections/{collection_id}", name="collection", mime_type="application/json",
                     description="one collection's description (describe_collection)")
    async def collection_resource(collection_id: str, ctx: Context) -> str:
        return await _read(caller, lambda env: catalog.describe_collection(env, collection_id), ctx)


async def _read(caller: Caller, body, mcp_ctx=None) -> str:
    """A resource as the caller sees it (private collections: not found); errors as resource errors."""
    from .calls import request_of
    from ..context import run_blocking

    request = request_of(mcp_ctx)
    who = caller.who(request)
    token = ident.set_current(who)
    try:
        caller.authorize(who, "data")
        env = Env(caller.app, caller.base_url(request), caller.app.config.mcp.max_values)
        model = await run_blocking(body, env)
        return orjson.dumps(model.model_dump(mode="json", exclude_none=True)).decode()
    except APIError as e:
        raise ResourceError(f"{e.title} ({e.status}): {e.detail}") from None
    finally:
        ident.reset(token)


def _prompts(server: Server) -> None:
    @server.prompt(title="Compare two places")
    def compare_places(collection: str, variable: str, place_a: str, place_b: str) -> str:
        """Compare a variable's time series at two places."""
        return (f"Compare {variable} of collection {collection} at {place_a} and at {place_b}. "
                "First call describe_collection to learn the units, time range and levels. Find each place's "
                "longitude and latitude (the 'places' features collection may have it: features_query with "
                "filters such as {\"name\": ...}). Call point_series for each place with the same datetime range, "
                "then compare their summaries (mean, min, max, trend_per_year) and say which place is higher, by "
                "how much, and whether the trends differ. Quote the units and the grid cells actually used.")

    @server.prompt(title="Regional summary")
    def regional_summary(collection: str, variable: str, region: str) -> str:
        """Summarise a variable over a region and show it on a map."""
        return (f"Summarise {variable} of collection {collection} over {region}. Call describe_collection, "
                "express the region as a bbox [west, south, east, north] or a WKT polygon in degrees, call "
                "area_statistics for the period of interest, render_map for the latest time step, and report "
                "the mean, the extremes and how they changed over time. For the full data, give the subset_link.")
