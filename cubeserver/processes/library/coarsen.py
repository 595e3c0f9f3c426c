"""`coarsen`: block-reduce a variable by integer factors per axis (e.g. 4x4 cells -> 1).

Factors are given per axis letter (x, y, z, t) so requests do not depend on each
dataset's dimension names. Coordinates become block means (time: block start).
"""

from __future__ import annotations

from ...errors import BadRequest
from ..base import Process
from ..inputs import (BBOX, COLLECTION, DATETIME, VARIABLES, Z, add_history, cell_method, gridded, guard_cells,
                      keep_time_encoding, select, variable_list)
from ..results import NETCDF, Output

REDUCERS = ["mean", "min", "max", "sum", "median", "std"]
FACTOR = {"type": "integer", "minimum": 1, "maximum": 100_000}


class Coarsen(Process):
    id = "coarsen"
    title = "Coarsen (block reduce)"
    description = ("Reduces blocks of cells to one: factors per axis (x, y, z, t), reducer mean/min/max/sum/median/std, "
                   "incomplete edge blocks trimmed or padded.")
    keywords = ["resample", "coarsen", "aggregation"]
    uses_dask = True
    inputs = {
        "collection": COLLECTION,
        "variables": VARIABLES,
        "factors": {"title": "Factors", "required": True, "description": "block size per axis, e.g. {\"x\": 4, \"y\": 4}",
                    "schema": {"type": "object", "additionalProperties": False, "minProperties": 1,
                               "properties": {"x": FACTOR, "y": FACTOR, "z": FACTOR, "t": FACTOR}}},
        "reducer": {"title": "Reducer", "description": "statistic of each block",
                    "schema": {"type": "string", "enum": REDUCERS, "default": "mean"}},
        "boundary": {"title": "Boundary", "description": "trim incomplete edge blocks or pad them with missing values",
                     "schema": {"type": "string", "enum": ["trim", "pad"], "default": "trim"}},
        "bbox": BBOX, "datetime": DATETIME, "z": Z,
    }
    outputs = {"result": {"title": "Coarsened data", "description": "NetCDF (also served as collection job-{jobId})",
                          "schema": {"type": "string", "contentMediaType": NETCDF}, "formats": [NETCDF]}}

    def check(self, values, ctx):
        c = gridded(ctx, values["collection"])
        ds = select(c, values, variable_list(c, values["variables"], "variables"), "variables")
        ax = c.axes
        window = {}
        for letter, factor in values["factors"].items():
            dim = getattr(ax, letter)
            if dim is None:
                raise BadRequest(f"factors: {c.id} has no {letter} axis", parameter="factors")
            if factor > ds.sizes[dim]:
                raise BadRequest(f"factors: {letter} factor {factor} is larger than the {ds.sizes[dim]} selected "
                                 f"steps of {dim}", parameter="factors")
            if factor > 1:
                window[dim] = int(factor)
        if not window:
            raise BadRequest("factors: at least one factor must be greater than 1", parameter="factors")
        coord_func = {d: ("min" if d == ax.t else "mean") for d in window}
        reducer = values["reducer"]
        out = getattr(ds.coarsen(window, boundary=values["boundary"], coord_func=coord_func), reducer)(keep_attrs=True)
        if ax.curvilinear is not None:  # 2-D lat/lon: block centres on the sphere, not means of degrees
            from ...grids.curvilinear import coarsened_lonlat

            out = out.assign_coords(coarsened_lonlat(ds, ax, window, values["boundary"]))
        if ax.t in window:
            out = keep_time_encoding(out, ds, ax.t)
        for name in out.data_vars:
            method = " ".join(f"{d}:" for d in window) + f" {reducer}"
            out[name].attrs = cell_method(ds[name].attrs, method)
        out = add_history(out, f"cubeserver coarsen: {reducer} over blocks {window}")
        guard_cells(out, ctx)
        return {"lazy": out}

    def execute(self, params, job):
        return {"result": Output.grid(job.compute(params["lazy"]))}
