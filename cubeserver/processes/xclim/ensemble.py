"""`xclim.ensembles`: ensemble statistics over several collections or a `realization` axis.

Members are the same variable of several collections (e.g. five CMIP6 models, or
the `job-{id}` results of one indicator run on each), selected with the usual
bbox/datetime/z inputs, put on the first member's grid (`align`) and on one calendar
(`calendar`, xclim's `create_ensemble`/`convert_calendar`), then reduced with
xclim.ensembles: mean/std/min/max, percentiles, or the robustness fractions of the
change between a `reference` period and the `datetime` period.
"""

from __future__ import annotations

import xarray as xr

from ...errors import BadRequest
from ..base import Process
from ..inputs import BBOX, DATETIME, Z, add_history, gridded, guard_cells, select, time_dim
from ..results import NETCDF, Output

STATISTICS = ["mean", "percentiles", "robustness"]
CALENDARS = ["standard", "proleptic_gregorian", "noleap", "all_leap", "360_day", "julian"]


class Ensemble(Process):
    id = "xclim.ensembles"
    title = "Ensemble statistics (xclim.ensembles)"
    description = ("Statistics across ensemble members: several collections (models, or job-{jobId} indicator "
                   "results) or one collection with a `realization` axis. mean: mean, standard deviation, minimum "
                   "and maximum across members (ensemble_mean_std_max_min); percentiles: member percentiles "
                   "(ensemble_percentiles); robustness: fractions of members that agree on the sign of the change "
                   "from `reference` to `datetime` (robustness_fractions).")
    keywords = ["xclim", "ensemble", "climate", "robustness", "percentiles"]
    uses_dask = True
    inputs = {
        "collections": {"title": "Members", "required": True,
                        "description": "ids of gridded collections, one per member (or one collection with a "
                                       "`realization` axis)",
                        "schema": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}},
        "variable": {"title": "Variable", "required": True, "description": "the variable every member has",
                     "schema": {"type": "string", "minLength": 1}},
        "statistic": {"title": "Statistic", "description": "mean (with std, min, max), percentiles or robustness",
                      "schema": {"type": "string", "enum": STATISTICS, "default": "mean"}},
        "percentiles": {"title": "Percentiles", "description": "for statistic=percentiles (0-100)",
                        "schema": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 100},
                                   "minItems": 1, "default": [10, 50, 90]}},
        "reference": {"title": "Reference period", "description": "for statistic=robustness: interval `start/end`; "
                                                                   "the change is `datetime` minus this period",
                      "schema": {"type": "string", "minLength": 3}},
        "calendar": {"title": "Common calendar", "description": "calendar the members are converted to when theirs "
                     "differ (xclim.core.calendar.convert_calendar, align_on=date: days a member's calendar lacks, "
                     "such as the 31sts of a 360_day member on noleap, hold the other members only). Default: the "
                     "first member's calendar",
                     "schema": {"type": "string", "enum": CALENDARS}},
        "align": {"title": "Grid alignment", "description": "exact: members must share the grid (else 400); nearest: "
                  "each member is sampled at the first member's cell centres (nearest neighbour)",
                  "schema": {"type": "string", "enum": ["exact", "nearest"], "default": "exact"}},
        "bbox": BBOX, "datetime": {**DATETIME, "description": "the period (the future period for robustness)"}, "z": Z,
    }
    outputs = {"result": {"title": "Ensemble statistics",
                          "description": "NetCDF (also served as collection job-{jobId})",
                          "schema": {"type": "string", "contentMediaType": NETCDF}, "formats": [NETCDF]}}

    def check(self, values, ctx):
        from xclim import ensembles

        var, stat = values["variable"], values["statistic"]
        ens = self.members(ctx, values, values.get("datetime"), "datetime")
        if stat == "mean":
            out = ensembles.ensemble_mean_std_max_min(ens)
        elif stat == "percentiles":
            out = ensembles.ensemble_percentiles(ens, values=[float(p) for p in values["percentiles"]], split=True)
        else:
            if not values.get("reference"):
                raise BadRequest("reference: statistic=robustness needs a reference period start/end",
                                 parameter="reference")
            ref = self.members(ctx, values, values["reference"], "reference")
            out = ensembles.robustness_fractions(ens[var], ref[var])
        out.attrs = {**ens.attrs, "ensemble_members": ", ".join(map(str, ens.realization.values))}
        for name in out.data_vars:
            out[name].attrs.setdefault("units", ens[var].attrs.get("units", ""))
        import xclim

        out = add_history(out, f"cubeserver xclim.ensembles {stat} of {var} over {len(ens.realization)} members "
                               f"(xclim {xclim.__version__})")
        guard_cells(out, ctx)
        return {"lazy": out}

    def members(self, ctx, values, datetime, datetime_input) -> xr.Dataset:
        """The members as one Dataset with a `realization` axis (lazy)."""
        from xclim.ensembles import create_ensemble

        var, ids = values["variable"], values["collections"]
        twice = sorted({cid for cid in ids if ids.count(cid) > 1})
        if twice:
            raise BadRequest(f"collections: {', '.join(twice)} listed more than once; each member once",
                             parameter="collections")
        dss = []
        for i, cid in enumerate(ids):
            c = gridded(ctx, cid, "collections")
            if var not in c.variables:
                raise BadRequest(f"variable: {cid} has no variable {var!r}; its variables are {', '.join(c.variables)}",
                                 parameter="variable")
            t = time_dim(c, "collections")
            ds = select(c, {**values, "datetime": datetime}, [var], var_input="variable", datetime_input=datetime_input)
            ds = ds.drop_vars([v for v in ds.coords if v not in ds.dims and v != t], errors="ignore")
            if t != "time":
                ds = ds.rename({t: "time"})
            dss.append((cid, ds, c))
        if len(dss) == 1:
            cid, ds, _ = dss[0]
            if "realization" not in ds.dims:
                raise BadRequest(f"collections: one collection ({cid}) needs a `realization` axis; otherwise list "
                                 "two or more collections", parameter="collections")
            return ds
        _same_sampling([(cid, ds) for cid, ds, _ in dss])
        first = dss[0][1]
        aligned = []
        for cid, ds, c in dss:
            aligned.append(self._align(first, ds, cid, values["align"]))
        calendars = {c.axes.calendar for _, _, c in dss}
        target = values.get("calendar") or (dss[0][2].axes.calendar if len(calendars) > 1 else None)
        try:
            return create_ensemble(aligned, calendar=target, realizations=list(ids),
                                   cal_kwargs={"align_on": "date"} if target else None)
        except ValueError as e:
            raise BadRequest(f"calendar: the members cannot be put on one calendar ({str(e).splitlines()[0][:200]})",
                             parameter="calendar") from None

    @staticmethod
    def _align(first: xr.Dataset, ds: xr.Dataset, cid: str, mode: str) -> xr.Dataset:
        dims = [d for d in first.dims if d != "time" and d in first.coords]
        missing = [d for d in dims if d not in ds.dims]
        if missing:
            raise BadRequest(f"collections: {cid} has no axis {missing[0]!r} like the first member", parameter="collections")
        same = all(ds.sizes[d] == first.sizes[d] and (ds[d].values == first[d].values).all() for d in dims)
        if same:
            return ds
        if mode != "nearest":
            raise BadRequest(f"collections: {cid} is on another grid than {first.attrs.get('id', 'the first member')} "
                             "(different cell centres); use align=nearest or a bbox both share", parameter="collections")
        out = ds.sel({d: first[d].values for d in dims}, method="nearest")
        return out.assign_coords({d: first[d].values for d in dims})

    def execute(self, params, job):
        return {"result": Output.grid(job.compute(params["lazy"]))}


def _step_days(ds: xr.Dataset) -> float | None:
    """The median time step of a member in days (None with fewer than two steps); numpy and cftime times."""
    import pandas as pd

    t = ds["time"].values[:200]
    if t.size < 2:
        return None
    steps = [pd.to_timedelta(b - a).total_seconds() / 86400 for a, b in zip(t[:-1], t[1:])]
    return float(sorted(steps)[len(steps) // 2])


def _same_sampling(members: list[tuple[str, xr.Dataset]]) -> None:
    """Members of different sampling (daily and monthly) would be joined on the union of their times and read
    mostly null: a 400 naming `collections`."""
    steps = [(cid, s) for cid, s in ((cid, _step_days(ds)) for cid, ds in members) if s]
    if steps and max(s for _, s in steps) > 1.5 * min(s for _, s in steps):
        listing = ", ".join(f"{cid} every {s:g} days" for cid, s in steps)
        raise BadRequest(f"collections: the members have different time steps ({listing}); ensemble members need "
                         "one sampling, e.g. the job-{id} results of one indicator with the same freq on each",
                         parameter="collections")
