"""One xclim indicator as an OGC API process (`xclim.<realm>.<identifier>`).

The description is generated from the indicator's metadata on first use and cached
(`describe.py`). `check` runs in the request: it resolves the collection and its
variables (`variables.py`), converts units, builds the lazy dask computation by calling
the xclim indicator itself, and turns xclim's input refusals (sampling frequency,
units, thresholds) into 400s naming the input. `execute` computes on the cluster with
progress; a result whose every value is missing (xclim's missing-data rule masked every
period) is refused with a 400 naming `missing`, never stored silently.
"""

from __future__ import annotations

import json
import threading
from functools import cached_property

import numpy as np
import xarray as xr

from ...errors import BadRequest, TooLarge
from ..base import Process
from ..inputs import add_history, gridded, guard_cells, keep_time_encoding, select, time_dim
from ..results import Output
from . import checks
from . import describe as D
from . import region
from . import variables as V

# xclim's options are process-global: one indicator call at a time holds them (graph building only)
OPTIONS_LOCK = threading.Lock()
# output periods per request: xclim builds a few dask tasks per period in the request itself (freq=D over 30
# years is ~11,000 periods, minutes of graph building and a job that never ends); 100 years of months fit
MAX_PERIODS = 1200
SAMPLING = {"D": "daily", "h": "hourly", "H": "hourly", "MS": "monthly", "YS": "annual"}


def process_id(key: str, ind) -> str:
    """`xclim.<realm>.<identifier>`, or `xclim.<module>.<identifier>` for a virtual module (icclim, cf, anuclim)."""
    group = key.split(".")[0] if "." in key and not key.startswith("xclim.") else ind.realm
    return f"xclim.{group}.{ind.identifier}"


class XclimIndicator(Process):
    """A process backed by the xclim indicator registered under `registry_key`."""

    uses_dask = True

    def __init__(self, registry_key: str, ind):
        self.key = registry_key
        self.ind = ind
        self.id = process_id(registry_key, ind)
        self.title = D.clean(ind.title) or ind.identifier
        self.description = D.clean(ind.abstract) or self.title
        import xclim

        self.version = xclim.__version__

    @cached_property
    def keywords(self) -> list[str]:  # type: ignore[override]
        return D.keywords(self.ind)

    @cached_property
    def inputs(self) -> dict:  # type: ignore[override]
        return D.inputs(self.ind)

    @cached_property
    def outputs(self) -> dict:  # type: ignore[override]
        return D.outputs(self.ind)

    def describe(self, base: str) -> dict:
        doc = super().describe(base)
        doc["description"] += (f" Computed with xclim {self.version} (indicator {self.ind.identifier}, realm "
                               f"{self.ind.realm}; input sampling {_sampling(self.ind.src_freq) if self.ind.src_freq else 'any'}).")
        return doc

    def accepts(self, collection) -> bool:
        """Whether `collection` has a variable for every required xclim input (matched as `check` matches
        them, without a `variables` mapping): the processes MCP's describe_collection lists for it."""
        if collection.ds is None or collection.axes.t is None:
            return False
        for name, p in self.ind.parameters.items():
            if D.kind_name(p) != "VARIABLE" or name.endswith("_per") or name == "lat":
                continue
            try:
                V.match(collection, name, None)
            except BadRequest:
                return False
        return True

    # ------------------------------------------------------------------ check

    def check(self, values, ctx):
        c = gridded(ctx, values["collection"])
        t = time_dim(c)
        ind = self.ind
        mapping = values.get("variables") or {}
        var_params = [k for k, p in ind.parameters.items() if D.kind_name(p) in ("VARIABLE", "OPTIONAL_VARIABLE")]
        sources = {}
        # required inputs first; an optional one is used only when it finds a variable no other input reads
        ordered = sorted(var_params, key=lambda n: D.kind_name(ind.parameters[n]) == "OPTIONAL_VARIABLE")
        for name in ordered:
            if name.endswith("_per") or (name == "lat" and name not in mapping):
                continue  # percentiles come from `baseline`; latitude from the grid (below)
            optional = D.kind_name(ind.parameters[name]) == "OPTIONAL_VARIABLE"
            try:
                src = V.match(c, name, mapping.get(name), by_standard_name=not optional)
            except BadRequest:
                if optional and name not in mapping:
                    continue
                raise
            if optional and name not in mapping and src in sources.values():
                continue
            sources[name] = src
        checks.refuse_shared(sources, mapping)
        inside = region.cells(c, values.get("polygon"), values.get("bbox"))
        ds = region.apply(c, select(c, values, sorted(set(sources.values())), var_input="variables"), inside)
        if ds.sizes.get(t, 0) == 0:
            raise BadRequest(f"datetime: no time steps of {c.id} in {values.get('datetime')}", parameter="datetime")
        checks.enough_steps(ds, t, values, ind)
        checks.dates_within(ds, t, values, [n for n, p in ind.parameters.items() if D.kind_name(p) == "DATE"])
        self._guard_periods(ds, t, values)
        kwargs = {name: _prepare(ds[src], name, src, t) for name, src in sources.items()}
        for name in var_params:  # optional inputs not found: None, or xclim looks for them in a `ds`
            if D.kind_name(ind.parameters[name]) == "OPTIONAL_VARIABLE" and name not in kwargs and name != "lat":
                kwargs[name] = None
        if "lat" in var_params and "lat" not in mapping:
            kwargs["lat"] = _latitude(ds, c)
        kwargs.update(self._percentiles(c, values, sources, t))
        kwargs.update(self._parameters(values, c.axes.calendar))
        result = self._call(c, kwargs, values)
        out = region.remask(c, xr.Dataset({r.name: r for r in result}), inside)
        if t != "time" and "time" in out.dims:
            out = out.rename({"time": t})  # back to the collection's own axis name
        out = keep_time_encoding(out, ds, t)
        out.attrs = {**ds.attrs, "xclim_version": self.version, "xclim_indicator": ind.identifier,
                     "xclim_realm": ind.realm, "xclim_parameters": json.dumps(_jsonable(_public_params(values)))}
        out = add_history(out, f"cubeserver {self.id} on collection {c.id} (xclim {self.version})")
        guard_cells(out, ctx)
        return {"lazy": out, "missing": values["missing"]}

    def _guard_periods(self, ds: xr.Dataset, t: str, values: dict) -> None:
        """413 naming `freq` when the output would have more than MAX_PERIODS time steps (checked on the time
        coordinate alone, before xclim builds anything)."""
        from xarray.coding.cftime_offsets import to_offset

        freq = values.get("freq")
        if not isinstance(freq, str) or not freq:
            return
        try:
            to_offset(freq)
            n = int(ds[t].resample({t: freq}).count().size)
        except (ValueError, TypeError):
            raise BadRequest(f"freq: {freq!r} is not a frequency; allowed: {', '.join(D.FREQS)}", parameter="freq") from None
        if n > MAX_PERIODS:
            raise TooLarge(f"freq: {freq!r} over {values.get('datetime') or 'the whole period'} gives {n:,} "
                                 f"output periods, more than {MAX_PERIODS:,} per request; choose a coarser freq "
                                 "(YS, MS) or a shorter datetime", parameter="freq")

    def _percentiles(self, c, values, sources, t) -> dict:
        pers = D.per_variables(self.ind)
        if not pers:
            return {}
        from xclim.core.calendar import percentile_doy

        out = {}
        for name in pers:
            base_name = name.removesuffix("_per")
            src = sources.get(base_name) or V.match(c, base_name, (values.get("variables") or {}).get(base_name))
            base = select(c, values, [src], var_input="variables", datetime=values["baseline"], datetime_input="baseline")
            base = region.apply(c, base, region.cells(c, values.get("polygon"), values.get("bbox")))
            if base.sizes.get(t, 0) < 2:
                raise BadRequest(f"baseline: {values['baseline']} holds fewer than two time steps of {c.id}",
                                 parameter="baseline")
            checks.baseline_covers_year(base, t, values["baseline"])
            p = float(values[D.percentile_input(self.ind, name)])
            da = _prepare(base[src], base_name, src, t)
            try:
                out[name] = percentile_doy(da, window=int(values["percentile_window"]), per=p).sel(percentiles=p)
            except ValueError as e:
                raise BadRequest(f"baseline: percentiles over {values['baseline']} failed: {e}", parameter="baseline") from None
        return out

    def _parameters(self, values, cal: str = "standard") -> dict:
        """The indicator's own parameters as xclim wants them (checked quantities, dates of calendar `cal`)."""
        from xarray.coding.cftime_offsets import to_offset
        from xclim.core.units import check_units, str2pint

        out = {}
        for name, p in self.ind.parameters.items():
            if name not in self.inputs or name in D.COMMON or values.get(name) is None:
                continue
            v = values[name]
            k = D.kind_name(p)
            if k == "QUANTIFIED":
                try:
                    str2pint(str(v))
                    if D._has(p.units):
                        check_units(str(v), p.units)
                except Exception as e:  # noqa: BLE001 - pint/xclim raise several kinds
                    raise BadRequest(f"{name}: {v!r} is not a quantity in units of {p.units if D._has(p.units) else '?'}"
                                     f"; e.g. {self.inputs[name]['schema'].get('default', '0 degC')!r}",
                                     parameter=name) from e
                checks.finite_quantity(v, name)
                v = str(v)
            elif k == "DAY_OF_YEAR":
                checks.month_day(v, name, cal=cal)
            elif k == "DATE":
                checks.full_date(v, name)
            elif k == "FREQ_STR":
                try:
                    to_offset(v)
                except ValueError:
                    raise BadRequest(f"{name}: {v!r} is not a frequency", parameter=name) from None
            elif name == "indexer":
                if not v:
                    continue
                for b in v.get("date_bounds") or []:
                    checks.month_day(b, "indexer", "date_bounds ", cal)
                out.update(v)
                continue
            out[name] = v
        return out

    def _call(self, c, kwargs: dict, values: dict) -> list[xr.DataArray]:
        import xclim
        from xclim.core._exceptions import ValidationError

        method = values["missing"]
        options = {k: v for k, v in (values.get("missing_options") or {}).items()}
        allowed = {"wmo": {"nm", "nc"}, "pct": {"tolerance", "subfreq"}, "at_least_n": {"n", "subfreq"}}.get(method, set())
        bad = sorted(set(options) - allowed)
        if bad:
            raise BadRequest(f"missing_options: {bad[0]!r} is not an option of missing={method!r}; allowed: "
                             f"{', '.join(sorted(allowed)) or 'none'}", parameter="missing_options")
        if "subfreq" in options:
            from xarray.coding.cftime_offsets import to_offset

            try:
                to_offset(str(options["subfreq"]))
            except ValueError:
                raise BadRequest(f"missing_options: subfreq {options['subfreq']!r} is not a frequency (e.g. MS, D)",
                                 parameter="missing_options") from None
        settings = {"check_missing": method, "data_validation": values["data_validation"], "cf_compliance": "log"}
        if options:
            settings["missing_options"] = {method: options}
        try:
            with OPTIONS_LOCK, xclim.set_options(**settings):
                res = self.ind(**kwargs)
        except ValidationError as e:
            raise BadRequest(f"collection: {c.id} does not suit {self.ind.identifier}: {e.msg if hasattr(e, 'msg') else e} "
                             f"(the indicator needs {_sampling(self.ind.src_freq)} input; "
                             "data_validation=log computes anyway)", parameter="collection") from None
        except BadRequest:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, NotImplementedError) as e:
            at = checks.blame(e, values)
            raise BadRequest(f"{at}: xclim refused the input: {checks.short(e)}", parameter=at) from None
        return list(res) if isinstance(res, tuple) else [res]

    # ---------------------------------------------------------------- execute

    def execute(self, params, job):
        ds = job.compute(params["lazy"])
        for name, var in ds.data_vars.items():
            if var.size and not np.isfinite(np.asarray(var.values, dtype="float64")).any():
                if params["missing"] == "skip":  # nothing was masked: the indicator itself found nothing
                    raise BadRequest(f"datetime: every value of {name} is null although missing='skip' masks nothing: "
                                     "the indicator found nothing to measure here (e.g. no season starts or ends, "
                                     "or the period is shorter than the indicator's window); choose another period, "
                                     "area, level or thresholds", parameter="datetime")
                raise BadRequest(f"missing: every value of {name} is missing with missing={params['missing']!r} (a "
                                 "period with missing input days is masked); choose complete periods, or "
                                 "missing=pct with missing_options tolerance, or missing=skip", parameter="missing")
        return {"result": Output.grid(ds)}


def _prepare(da: xr.DataArray, name: str, source: str, t: str) -> xr.DataArray:
    """Canonical units; the time axis named `time` (xclim looks for it by that name) in one chunk (as
    xclim's resampling and run lengths want); other axes chunked by dask's size rule."""
    da = V.to_canonical(da, name, source)
    if t != "time":
        da = da.rename({t: "time"})
    chunks = {"time": -1, **{d: "auto" for d in da.dims if d != "time"}}
    return da.chunk(chunks).rename(name)


def _latitude(ds: xr.Dataset, c) -> xr.DataArray:
    """The latitude of the cells (xclim's `lat` input: day length, insolation), from the grid's coordinates."""
    for name, coord in ds.coords.items():
        if coord.attrs.get("standard_name") == "latitude" or name in ("lat", "latitude", "nav_lat"):
            lat = coord.copy()
            lat.attrs.setdefault("units", "degrees_north")
            return lat.rename("lat")
    raise BadRequest(f"collection: {c.id} has no latitude coordinate, which this indicator needs (name a variable "
                     "holding it with variables.lat)", parameter="collection")


def _sampling(src_freq) -> str:
    """xclim's `src_freq` (None, one alias or a list of them, e.g. SPI's ['D', 'MS']) in words."""
    freqs = src_freq if isinstance(src_freq, (list, tuple)) else [src_freq] if src_freq else []
    return " or ".join(SAMPLING.get(f, f) for f in freqs) or "other"


def _public_params(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not None}


def _jsonable(v):
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
