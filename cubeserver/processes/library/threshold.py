"""`threshold-exceedance`: how often each cell is above (or below) a threshold.

Counts only valid values, so the fraction is over the steps with data and cells with
no data at all (land in an SST field) stay missing instead of reading as zero.
"""

from __future__ import annotations

import xarray as xr

from ..base import Process
from ..grouped import grouped_reduce
from ..inputs import (BBOX, COLLECTION, DATETIME, VARIABLE, Z, add_history, gridded, guard_cells,
                      keep_time_encoding, period_labels, select, time_dim, variable_list)
from ..results import NETCDF, Output

OPERATORS = {"gt": "greater than", "ge": "at least", "lt": "less than", "le": "at most"}


def exceedance(da: xr.DataArray, t: str, threshold: float, op: str, statistic: str, per_year: bool,
               calendar: str) -> xr.DataArray:
    hit = getattr(da, f"__{op}__")(threshold).astype("float32").where(da.notnull())  # 1, 0 or missing
    if per_year:
        labels = period_labels(da[t].values, "year", calendar)
        count, n = (grouped_reduce(hit, t, labels, r) for r in ("sum", "count"))
    else:
        count, n = hit.sum(t), hit.count(t)
    out = (count / n) if statistic == "fraction" else count.astype("float32")
    return out.where(n > 0)


class ThresholdExceedance(Process):
    id = "threshold-exceedance"
    title = "Threshold exceedance"
    description = ("Per grid cell, the number (count) or share (fraction) of time steps whose value is above or "
                   "below a threshold, over the whole selection or per year. Missing values are not counted.")
    keywords = ["threshold", "extremes", "count"]
    uses_dask = True
    inputs = {
        "collection": COLLECTION,
        "variable": VARIABLE,
        "threshold": {"title": "Threshold", "required": True, "description": "in the variable's units",
                      "schema": {"type": "number"}},
        "operator": {"title": "Comparison", "description": "gt (above), ge, lt (below), le",
                     "schema": {"type": "string", "enum": list(OPERATORS), "default": "gt"}},
        "statistic": {"title": "Statistic", "description": "count of steps or fraction of valid steps",
                      "schema": {"type": "string", "enum": ["count", "fraction"], "default": "count"}},
        "per_year": {"title": "Per year", "description": "one result per calendar year",
                     "schema": {"type": "boolean", "default": False}},
        "bbox": BBOX, "datetime": DATETIME, "z": Z,
    }
    outputs = {"result": {"title": "Exceedance", "description": "NetCDF (also served as collection job-{jobId})",
                          "schema": {"type": "string", "contentMediaType": NETCDF}, "formats": [NETCDF]}}

    def check(self, values, ctx):
        c = gridded(ctx, values["collection"])
        t = time_dim(c)
        (var,) = variable_list(c, values["variable"], "variable")
        ds = select(c, values, [var])
        op, stat, thr = values["operator"], values["statistic"], float(values["threshold"])
        da = exceedance(ds[var], t, thr, op, stat, values["per_year"], c.axes.calendar)
        name = f"{var}_exceedance_{stat}"
        units = ds[var].attrs.get("units", "")
        da.attrs = {
            "long_name": f"{'fraction' if stat == 'fraction' else 'number'} of time steps with {var} "
                         f"{OPERATORS[op]} {thr:g} {units}".strip(),
            "units": "1", "threshold": thr, "threshold_operator": op,
            "cell_methods": f"{t}: {'mean' if stat == 'fraction' else 'sum'}" + (" (interval: year)" if values["per_year"] else ""),
        }
        out = da.to_dataset(name=name)
        out.attrs = dict(ds.attrs)
        if values["per_year"]:
            out = keep_time_encoding(out, ds, t)
        out = add_history(out, f"cubeserver threshold-exceedance: {var} {op} {thr:g}")
        guard_cells(out, ctx)
        return {"lazy": out}

    def execute(self, params, job):
        return {"result": Output.grid(job.compute(params["lazy"]))}
