"""OpenAPI parameter objects of the EDR query endpoints (OGC API - EDR 1.1, clause 8.2 query parameters).

The handlers read the raw query string themselves (`routes.single_params` then `params.check_params`), so
the parameters are declared for the API document only: FastAPI's own per-request parsing and validation
of a dozen optional strings cost a fifth of a point query's server time, and its messages for a missing
or malformed value ("Field required") would not name what EDR allows, which ours do.
"""

from __future__ import annotations

from .params import UNITS_M


def query(name: str, description: str, *, required: bool = False, kind: str = "string",
          enum: list[str] | None = None, example: str | None = None) -> dict:
    """One OpenAPI 3 query parameter (form style, not exploded: lists are comma-separated)."""
    schema: dict = {"type": kind}
    if enum:
        schema["enum"] = enum
    doc = {"name": name, "in": "query", "required": required, "style": "form", "explode": False,
           "description": description, "schema": schema}
    if example is not None:
        doc["example"] = example
    return doc


DATETIME = query("datetime", "instant, interval a/b (open ends ..), or list a,b; RFC 3339 dates of the collection's "
                 "calendar (2022-02-30 on 360_day)", example="2000-01-16T06:00:00Z")
Z = query("z", "level, list 200,500, range 100/500, or R{n}/{min}/{step}")
PARAMETER_NAME = query("parameter-name", "comma-separated variable names (default: all)")
CRS = query("crs", "CRS of coords/bbox and of the answer's coordinates: CRS84 (default), EPSG:4326 or the native CRS")
F = query("f", "CoverageJSON (default), NetCDF (NetCDF-3 when it fits the classic model), NetCDF4, GeoJSON or CSV "
          "(the last two for point answers); html: a page drawing the answer (chart or map)")
RES_X = query("resolution-x", "number of positions across the x extent (0 = native)")
RES_Y = query("resolution-y", "number of positions across the y extent (0 = native)")
RES_Z = query("resolution-z", "number of levels spread evenly from the lowest to the highest selected level "
              "(nearest levels; 0 = all)")
COMMON = [DATETIME, Z, PARAMETER_NAME, CRS, F]

UNITS_DOC = f"one of {', '.join(UNITS_M)} (also the collection's data_queries variables)"
QUERY_PARAMETERS = {
    "position": [query("coords", "WKT POINT(x y) or MULTIPOINT((x y),(x y))", required=True,
                       example="POINT(10 45)"), *COMMON],
    "area": [query("coords", "WKT POLYGON((x y,...)) or MULTIPOLYGON", required=True), *COMMON, RES_X, RES_Y, RES_Z],
    "cube": [query("bbox", "minx,miny,maxx,maxy (or 6 numbers with minz, maxz)", required=True,
                   example="0,40,20,60"), *COMMON, RES_X, RES_Y, RES_Z],
    "radius": [query("coords", "WKT POINT(x y): the centre", required=True),
               query("within", "the radius, in within-units", required=True, kind="number"),
               query("within-units", f"units of `within`: {UNITS_DOC}", required=True, enum=list(UNITS_M)), *COMMON],
    "trajectory": [query("coords", "WKT LINESTRING; LINESTRINGM/Z/ZM give a time (epoch seconds) and/or height per "
                         "vertex", required=True), *COMMON],
    "corridor": [
        query("coords", "WKT LINESTRING (M/Z/ZM allowed): the centre line", required=True),
        query("corridor-width", "total width, in width-units", required=True, kind="number"),
        query("width-units", f"units of `corridor-width`: {UNITS_DOC}", required=True, enum=list(UNITS_M)),
        query("corridor-height", "total height of the corridor around the path's Z (or `z`) in `height-units`; a path "
              "without Z spans all levels; no effect on a collection without a vertical axis", required=True),
        query("height-units", "units of `corridor-height`: the z axis units listed in the collection's data_queries "
              "corridor height_units (m, km or mi without a vertical axis)", required=True),
        *COMMON,
        query("resolution-x", "number of positions across the corridor's x extent (0 = native)"),
        query("resolution-y", "number of positions across the corridor's y extent (0 = native)"),
        RES_Z],
}
LOCATIONS_LIST = [
    query("bbox", "minx,miny,maxx,maxy in CRS84: only locations intersecting it (minx > maxx crosses the "
          "antimeridian)", example="-10,35,30,60"),
    query("datetime", "RFC 3339 instant or interval; filters only locations that have a time (locations without "
          "one, such as places, are all kept)"),
    F]
LOCATION = [*COMMON, query("resolution-x", "area (polygon) locations only: positions across x (0 = native)"),
            query("resolution-y", "area (polygon) locations only: positions across y (0 = native)")]
FORMAT_ONLY = [query("f", "json (the default)")]


def documented(parameters: list[dict]) -> dict:
    """`openapi_extra` for a route whose query parameters are `parameters` (FastAPI adds the path ones)."""
    return {"parameters": parameters}


__all__ = ["FORMAT_ONLY", "LOCATION", "LOCATIONS_LIST", "QUERY_PARAMETERS", "documented", "query"]
