"""`temporal-aggregate`: reduce a collection over time, whole period or per day/month/season/year.

Groups are the calendar periods that actually contain time steps (labelled by the
period start in the axis's own calendar), so a monthly series grouped by day does
not grow hundreds of empty steps and cftime calendars work unchanged. Grouped
reductions use the chunk-wise map-reduce of `grouped.py`.
"""

from __future__ import annotations

import xarray as xr

from ...errors import BadRequest
from ..base import Process
from ..grouped import grouped_reduce
from ..inputs import (COLLECTION, SELECTION, VARIABLES, add_history, cell_method, gridded, guard_cells,
                      keep_time_encoding, period_labels, select, time_dim, variable_list)
from ..results import NETCDF, Output

REDUCERS = ["mean", "min", "max", "sum", "std", "count"]
GROUPINGS = ["none", "day", "month", "season", "year"]


def reduce_time(ds: xr.Dataset, t: str, reducer: str, grouping: str, calendar: str) -> xr.Dataset:
    """The lazy reduction; CF attributes kept, cell_methods extended."""
    if grouping == "none":
        out = getattr(ds, reducer)(dim=t, keep_attrs=True)
    else:
        labels = period_labels(ds[t].values, grouping, calendar)
        out = xr.Dataset({v: grouped_reduce(ds[v], t, labels, reducer) for v in ds.data_vars}, attrs=dict(ds.attrs))
        out = keep_time_encoding(out, ds, t)
    within = "" if grouping == "none" else f" (interval: {grouping})"
    for name in out.data_vars:
        out[name].attrs = cell_method(ds[name].attrs, f"{t}: {reducer}{within}".replace(" (interval: none)", ""))
        if reducer == "count":
            out[name].attrs["units"] = "1"
            out[name].attrs["long_name"] = f"number of valid values of {ds[name].attrs.get('long_name', name)}"
    return add_history(out, f"cubeserver temporal-aggregate: {reducer} over {t}, grouping {grouping}")


class TemporalAggregate(Process):
    id = "temporal-aggregate"
    title = "Temporal aggregate"
    description = ("Reduces variables of a gridded collection over time (mean, min, max, sum, std or count of valid "
                   "values), over the whole selection or per day, month, season (DJF, MAM, JJA, SON) or year. "
                   "The result is a gridded dataset published as a temporary collection.")
    keywords = ["aggregation", "time", "climatology"]
    uses_dask = True
    inputs = {
        "collection": COLLECTION,
        "variables": VARIABLES,
        **SELECTION,
        "reducer": {"title": "Reducer", "description": "the statistic", "schema": {"type": "string", "enum": REDUCERS, "default": "mean"}},
        "grouping": {"title": "Grouping", "description": "calendar periods to reduce within",
                     "schema": {"type": "string", "enum": GROUPINGS, "default": "none"}},
    }
    outputs = {"result": {"title": "Aggregated data", "description": "NetCDF (also served as collection job-{jobId})",
                          "schema": {"type": "string", "contentMediaType": NETCDF}, "formats": [NETCDF]}}

    def check(self, values, ctx):
        c = gridded(ctx, values["collection"])
        t = time_dim(c)
        ds = select(c, values, variable_list(c, values["variables"], "variables"), "variables")
        if any(t not in ds[v].dims for v in ds.data_vars):
            raise BadRequest(f"variables: only variables with the time axis {t!r} can be aggregated", parameter="variables")
        out = reduce_time(ds, t, values["reducer"], values["grouping"], c.axes.calendar)
        guard_cells(out, ctx)
        return {"lazy": out}

    def execute(self, params, job):
        return {"result": Output.grid(job.compute(params["lazy"]))}
