"""`anomaly`: departures from the per-calendar-month climatology of a baseline period.

The climatology and the anomaly are both lazy xarray groupby operations; the
baseline is checked against the output period first, so a month without baseline
data is a 400 and not a field of NaN.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ...errors import BadRequest
from ..base import Process
from ..grouped import grouped_reduce
from ..inputs import (BBOX, COLLECTION, DATETIME, VARIABLE, Z, add_history, gridded, guard_cells,
                      keep_time_encoding, select, time_dim, variable_list)
from ..results import NETCDF, Output


def months(times: np.ndarray) -> np.ndarray:
    if times.dtype == object:
        return np.array([t.month for t in times])
    return times.astype("datetime64[M]").astype(int) % 12 + 1


class Anomaly(Process):
    id = "anomaly"
    title = "Anomaly against a monthly climatology"
    description = ("Subtracts the per-calendar-month mean of a baseline period from each time step of a variable "
                   "(optionally within bbox / datetime / z). Result: a gridded dataset in the variable's units.")
    keywords = ["anomaly", "climatology"]
    uses_dask = True
    inputs = {
        "collection": COLLECTION,
        "variable": VARIABLE,
        "baseline": {"title": "Baseline period", "required": True,
                     "description": "interval `start/end` (RFC 3339) whose monthly means form the climatology",
                     "schema": {"type": "string", "minLength": 3}},
        "bbox": BBOX, "datetime": {**DATETIME, "description": "the period to compute anomalies for (default: all)"},
        "z": Z,
    }
    outputs = {"result": {"title": "Anomalies", "description": "NetCDF (also served as collection job-{jobId})",
                          "schema": {"type": "string", "contentMediaType": NETCDF}, "formats": [NETCDF]}}

    def check(self, values, ctx):
        c = gridded(ctx, values["collection"])
        t = time_dim(c)
        var = variable_list(c, values["variable"], "variable")
        if "/" not in values["baseline"]:
            raise BadRequest("baseline: expected an interval start/end", parameter="baseline")
        base = select(c, values, var, datetime=values["baseline"], datetime_input="baseline")
        target = select(c, values, var)
        missing = sorted(set(months(target[t].values)) - set(months(base[t].values)))
        if missing:
            raise BadRequest(f"baseline: has no data for month(s) {', '.join(map(str, missing))} of the requested "
                             "period; widen the baseline or narrow datetime", parameter="baseline")
        base_months = months(base[t].values)
        clim = xr.Dataset({v: grouped_reduce(base[v], t, base_months, "mean") for v in base.data_vars}).rename({t: "month"})
        out = (target.groupby(f"{t}.month") - clim).drop_vars("month", errors="ignore")
        out = keep_time_encoding(out, target, t)
        for name in out.data_vars:
            attrs = dict(target[name].attrs)
            attrs["long_name"] = f"anomaly of {attrs.get('long_name', name)}"
            attrs["baseline_period"] = values["baseline"]
            attrs.pop("standard_name", None)  # an anomaly is not the original quantity
            out[name].attrs = attrs
        out.attrs = dict(target.attrs)
        out = add_history(out, f"cubeserver anomaly: minus the {values['baseline']} monthly climatology")
        guard_cells(out, ctx)
        return {"lazy": out}

    def execute(self, params, job):
        return {"result": Output.grid(job.compute(params["lazy"]))}
