"""Typed, compact results of the MCP tools (each becomes the tool's JSON Schema `outputSchema`).

Numbers are plain JSON numbers (NaN and nodata: null); times are RFC 3339 strings of the
collection's calendar (CF calendars such as 360_day keep their own dates); every data answer
carries the URL of the full answer on the HTTP API.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Number = float | int | None


class ZSummary(BaseModel):
    name: str
    units: str | None = None
    count: int


class CollectionSummary(BaseModel):
    id: str
    title: str
    kind: Literal["coverage", "features"]
    variables: list[str] = Field(default_factory=list, description="gridded: the data variables")
    bbox_crs84: list[float] = Field(description="west, south, east, north in degrees (west > east crosses 180°)")
    time_interval: list[str | None] | None = None
    z: ZSummary | None = None
    features: int | None = Field(default=None, description="features collections: number of features")


class CollectionList(BaseModel):
    collections: list[CollectionSummary]
    matched: int = Field(description="collections matching the filter (all you may see)")
    next_offset: int | None = Field(default=None, description="more match: call again with this offset")


class AxisInfo(BaseModel):
    name: str
    role: Literal["x", "y", "z", "t", "other"]
    units: str | None = None
    count: int
    range: list[Any] = Field(description="first and last value (times as RFC 3339 strings)")
    resolution: float | None = None
    values: list[Any] | None = Field(default=None, description="every value, when there are at most 50")
    positive: str | None = None
    calendar: str | None = None


class VariableInfo(BaseModel):
    name: str
    units: str | None = None
    standard_name: str | None = None
    long_name: str | None = None
    dims: list[str]
    dtype: str


class CollectionDescription(BaseModel):
    id: str
    title: str
    description: str | None = None
    kind: Literal["coverage", "features"]
    bbox_crs84: list[float]
    crs: str | None = Field(default=None, description="native CRS URI (queries take lon/lat by default)")
    crs_name: str | None = None
    grid: str | None = Field(default=None, description="regular, rotated/projected, or curvilinear")
    calendar: str | None = None
    axes: list[AxisInfo] = Field(default_factory=list)
    variables: list[VariableInfo] = Field(default_factory=list)
    properties: dict[str, str] | None = Field(default=None, description="features: property name -> type")
    features: int | None = None
    query_types: list[str] = Field(description="what this collection answers: MCP tools and HTTP query types")
    processes: list[str] = Field(description="processes that accept this collection as an input")
    links: dict[str, str]
    attribution: str | None = None
    license: str | None = None


class Summary(BaseModel):
    """Of the full series, before any downsampling."""

    count: int = Field(description="time steps")
    valid: int = Field(description="steps with a value (not nodata)")
    min: Number = None
    max: Number = None
    mean: Number = None
    trend_per_year: Number = Field(default=None, description="least-squares slope in units per calendar year")
    first_time: str | None = None
    last_time: str | None = None


class Downsampling(BaseModel):
    method: str = "block mean"
    block: int = Field(description="consecutive steps averaged into each returned value")
    original_count: int
    note: str


class VariableSeries(BaseModel):
    variable: str
    units: str | None = None
    values: list[Number]
    summary: Summary


class PointSeries(BaseModel):
    collection: str
    lon: float
    lat: float
    cell: list[float] = Field(description="the grid cell answered: its centre (lon/lat, or x/y in `crs`)")
    z: Number = None
    times: list[str] = Field(description="the time of each value (start of the block when downsampled)")
    series: list[VariableSeries]
    downsampled: Downsampling | None = None
    values_returned: int
    edr_url: str = Field(description="the full answer on the HTTP API (CoverageJSON; add &f=csv or &f=netcdf)")


class VariableProfile(BaseModel):
    variable: str
    units: str | None = None
    values: list[Number]


class VerticalProfile(BaseModel):
    collection: str
    lon: float
    lat: float
    cell: list[float]
    time: str | None = None
    z_name: str
    z_units: str | None = None
    z_positive: str | None = None
    levels: list[Number]
    profiles: list[VariableProfile]
    values_returned: int
    edr_url: str


class VariableStatistics(BaseModel):
    variable: str
    units: str | None = None
    count: list[int] = Field(description="cells with a value, per row")
    min: list[Number]
    max: list[Number]
    mean: list[Number] = Field(description="mean of the cells (each cell counts once)")
    weighted_mean: list[Number] | None = Field(default=None, description="lon/lat grids: area-weighted (cos latitude)")


class AreaStatistics(BaseModel):
    collection: str
    area: str = Field(description="the polygon (WKT; a long one as its vertex count and bounds) or bbox asked")
    cells: int = Field(description="grid cells whose centre lies inside the area")
    z: Number = None
    times: list[str] = Field(description="one per row (start of the block when downsampled); empty without time axis")
    statistics: list[VariableStatistics]
    downsampled: Downsampling | None = None
    values_returned: int
    edr_url: str | None = Field(default=None, description="the cells themselves on the HTTP API (CoverageJSON; "
                                "&f=netcdf for NetCDF); none when the polygon is too long for a URL (see note)")
    note: str | None = None


class SubsetLink(BaseModel):
    collection: str
    format: str
    url: str
    media_type: str
    estimated_values: int
    estimated_bytes: int = Field(description="uncompressed estimate")
    within_limits: bool = Field(description="False: the server would refuse it (limits.max_cells); narrow it")
    python: str | None = Field(default=None, description="zarr: the Python that opens and subsets it lazily")
    note: str | None = None


class MapInfo(BaseModel):
    collection: str
    variable: str
    bbox: list[float]
    crs: str
    width: int
    height: int
    datetime: str | None = Field(default=None, description="the time step shown (default: the latest)")
    z: Number = Field(default=None, description="the level shown (default: the first)")
    map_url: str
    legend_url: str


class FeatureSummary(BaseModel):
    id: Any
    properties: dict[str, Any]
    geometry_type: str | None = None
    coordinates: list[float] | None = Field(default=None, description="points: lon, lat")
    bbox: list[float] | None = Field(default=None, description="other geometries: lon/lat bounds")


class FeaturesResult(BaseModel):
    collection: str
    number_matched: int
    number_returned: int
    truncated: bool = Field(description="True when more features match: page with offset, or use items_url")
    next_offset: int | None = None
    features: list[FeatureSummary]
    items_url: str


class ProcessSummary(BaseModel):
    id: str
    title: str
    description: str
    inputs: list[str]
    outputs: list[str]


class ProcessList(BaseModel):
    processes: list[ProcessSummary]
    number_matched: int = Field(description="processes matching the filter")
    next_offset: int | None = Field(default=None, description="more match: call again with this offset")


class ProcessDescription(BaseModel):
    id: str
    title: str
    description: str
    inputs: dict[str, Any] = Field(description="input id -> title, description, JSON Schema, minOccurs")
    outputs: dict[str, Any]
    url: str


class JobInfo(BaseModel):
    job_id: str
    process_id: str
    status: str
    progress: int | None = None
    message: str | None = None
    created: str | None = None
    started: str | None = None
    finished: str | None = None
    status_url: str
    results_url: str | None = None
    error: dict[str, Any] | None = None


class OutputSummary(BaseModel):
    id: str
    kind: str = Field(description="value (inline), file or coverage (a gridded result, also a collection)")
    media_type: str
    value: Any = None
    truncated: bool = False
    href: str
    collection: str | None = Field(default=None, description="coverage: query it with point_series, "
                                   "area_statistics, render_map ... like any collection")
    variables: list[str] | None = None


class JobResults(BaseModel):
    job_id: str
    process_id: str
    status: str
    outputs: list[OutputSummary]
    results_url: str
