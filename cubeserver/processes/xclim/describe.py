"""Process descriptions generated from xclim's own indicator metadata.

`spec(indicator)` turns one `xclim.core.indicator.Indicator` into the pieces of a
Processes 1.0 description (OGC API - Processes 1.0, /req/ogc-process-description):
title, abstract, keywords, inputs as JSON Schema (OpenAPI 3.0 subset, as the
official schema.yaml allows) with defaults and allowed values, and the output with
its CF attributes (units, standard_name, cell_methods) as `additionalParameters`.
Parameters of kinds a web client cannot pass (masks, dicts, sequences) keep xclim's
defaults; an indicator with such a parameter *without* default is not offered.
"""

from __future__ import annotations

import re

from ..inputs import BBOX, COLLECTION, DATETIME, Z
from ..results import NETCDF
from . import variables as V
from .region import POLYGON

FREQS = ["YS", "YS-JUL", "YS-OCT", "QS-DEC", "MS", "D"]  # what xarray resamples on every calendar (no "W": cftime has no weeks)
SEASONS = ["DJF", "MAM", "JJA", "SON"]


def _has_flox() -> bool:
    from importlib.util import find_spec

    return find_spec("flox") is not None


# xclim 0.62 computes the wmo rule on dask input with flox only (without it: NameError inside xclim, a 500)
MISSING = ["any", *(["wmo"] if _has_flox() else []), "pct", "at_least_n", "skip"]
# integer parameters counted in days (run lengths, gaps): xclim computes nonsense for 0 or less
DAY_COUNTS = ("window", "min_gap", "temp_condition_days", "snow_condition_days")
COMMON = ("collection", "variables", "bbox", "polygon", "datetime", "z", "missing", "missing_options", "data_validation")
SKIPPED_KINDS = {"DATASET", "KWARGS", "DICT", "MASK", "OTHER_PARAMETER", "NUMBER_SEQUENCE"}

INDEXER = {
    "title": "Temporal subset (indexer)",
    "description": "compute on part of each period only: one of season (DJF, MAM, JJA, SON or a list), month "
                   "(1-12 or a list), doy_bounds [first, last] day of year, date_bounds [\"MM-DD\", \"MM-DD\"] "
                   "(xclim.indices.generic.select_time)",
    "schema": {"type": "object", "maxProperties": 1, "additionalProperties": False, "properties": {
        "season": {"oneOf": [{"type": "string", "enum": SEASONS, "title": "season DJF, MAM, JJA or SON"},
                             {"type": "array", "items": {"type": "string", "enum": SEASONS}, "minItems": 1, "title": "list of seasons"}]},
        "month": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 12, "title": "month 1-12"},
                            {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 12}, "minItems": 1,
                             "title": "list of months 1-12"}]},
        "doy_bounds": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 366}, "minItems": 2, "maxItems": 2},
        "date_bounds": {"type": "array", "items": {"type": "string", "pattern": "^[01][0-9]-[0-3][0-9]$",
                                                    "description": "month-day MM-DD"},
                        "minItems": 2, "maxItems": 2},
    }},
}
MISSING_INPUT = {
    "title": "Missing-data rule",
    "description": "xclim's missing-value method for each output period: any (a period with one missing day is "
                   "missing), wmo (WMO 11/5 rule, monthly; offered only when the server has the flox package), pct "
                   "(more than `tolerance` missing), at_least_n (fewer than `n` valid), skip (no masking). A result "
                   "whose every period is masked is refused (400).",
    "schema": {"type": "string", "enum": MISSING, "default": "any"},
}
MISSING_OPTIONS = {
    "title": "Missing-data options",
    "description": "options of the missing method: wmo {nm, nc}, pct {tolerance (0-1), subfreq}, at_least_n {n, subfreq}",
    "schema": {"type": "object", "additionalProperties": False, "properties": {
        "nm": {"type": "integer", "minimum": 0}, "nc": {"type": "integer", "minimum": 0},
        "tolerance": {"type": "number", "minimum": 0, "maximum": 1}, "n": {"type": "integer", "minimum": 0},
        "subfreq": {"type": "string"}}},
}
DATA_VALIDATION = {
    "title": "Input checks",
    "description": "raise: xclim refuses input of the wrong sampling frequency (e.g. monthly data for a daily "
                   "indicator) and the request is a 400; log: compute anyway (the result then is what xclim's "
                   "formula gives on that sampling)",
    "schema": {"type": "string", "enum": ["raise", "log"], "default": "raise"},
}
BASELINE = {
    "title": "Percentile baseline period", "required": True,
    "description": "interval `start/end` (RFC 3339) of the collection whose day-of-year percentiles "
                   "(xclim.core.calendar.percentile_doy, window `percentile_window`) are the thresholds",
    "schema": {"type": "string", "minLength": 3},
}
WINDOW = {"title": "Percentile window", "description": "days in the moving window around each day of year",
          "schema": {"type": "integer", "minimum": 1, "maximum": 31, "default": 5}}


def clean(text: str) -> str:
    """xclim's RST docstrings as plain text (roles and double backticks removed)."""
    text = re.sub(r":py:\w+:`~?([^`]+)`", r"\1", str(text or ""))
    return re.sub(r"\s+", " ", text.replace("``", "`")).strip()


def kind_name(p) -> str:
    from xclim.core.indicator import InputKind

    return InputKind(p.kind).name


def _has(v) -> bool:
    from xclim.core.indicator import _empty

    import inspect

    return v is not _empty and v is not inspect.Parameter.empty


def per_variables(ind) -> list[str]:
    return [k for k, p in ind.parameters.items() if kind_name(p) in ("VARIABLE", "OPTIONAL_VARIABLE") and k.endswith("_per")]


def percentile_default(ind, name: str) -> float:
    m = re.search(r"(\d+(?:\.\d+)?)(?:th|st|nd|rd) percentile", ind.parameters[name].description or "")
    return float(m.group(1)) if m else 90.0


def percentile_input(ind, name: str) -> str:
    return "percentile" if len(per_variables(ind)) == 1 else f"{name}_percentile"


def supported(ind) -> bool:
    """True when every parameter a web client cannot pass has a default, and xclim can parse the input
    sampling it declares (xclim 0.62's cool_night_index says "M", which pandas no longer reads: it fails
    on any input)."""
    from xclim.core.calendar import parse_offset

    for freq in ind.src_freq if isinstance(ind.src_freq, (list, tuple)) else [ind.src_freq] if ind.src_freq else []:
        try:
            parse_offset(freq)
        except ValueError:
            return False
    for name, p in ind.parameters.items():
        k = kind_name(p)
        if k in SKIPPED_KINDS and name != "indexer" and k not in ("DATASET", "KWARGS") and not _has(p.default):
            return False
    return True


def parameter_inputs(ind) -> dict:
    """Indicator parameters (thresholds, freq, op, windows, dates...) as input specs."""
    out = {}
    for name, p in ind.parameters.items():
        k = kind_name(p)
        desc = clean(p.description)
        default = p.default if _has(p.default) else None
        if k == "QUANTIFIED":
            units = p.units if _has(p.units) else ""
            if units == "[]" and default is None:
                continue  # standardized indices' fitted `params`: a DataArray computed in advance, not a quantity
            schema = {"type": "string", "minLength": 1}
            if isinstance(default, str):
                schema["default"] = default
            elif isinstance(default, (int, float)):
                schema["default"] = f"{default} {units if units and not units.startswith('[') else ''}".strip()
            out[name] = {"title": name, "description": f"{desc} A quantity with units, e.g. \"{schema.get('default', '0 degC')}\""
                         + (f" (dimension {units})" if units else ""), "schema": schema}
        elif k == "FREQ_STR":
            enum = list(dict.fromkeys(([default] if default else []) + FREQS))
            schema = {"type": "string", "enum": enum}
            if default:
                schema["default"] = default
            out[name] = {"title": "Resampling frequency", "description": f"{desc} (pandas offset alias)", "schema": schema}
        elif k == "NUMBER":
            schema = {"type": "number"}
            if isinstance(default, (int, float)) and not isinstance(default, bool):
                schema["default"] = default
                if isinstance(default, int):
                    schema["type"] = "integer"
                    if name.startswith(DAY_COUNTS):
                        schema["minimum"] = 1
            out[name] = {"title": name, "description": desc, "schema": schema}
        elif k == "STRING":
            schema = {"type": "string"}
            if _has(p.choices):
                schema["enum"] = sorted(map(str, p.choices))
            if isinstance(default, str):
                schema["default"] = default
            elif default is not None:
                continue  # a non-string default (None means "let xclim decide"): keep xclim's
            out[name] = {"title": name, "description": desc, "schema": schema}
        elif k == "BOOL":
            schema = {"type": "boolean"}
            if isinstance(default, bool):
                schema["default"] = default
            out[name] = {"title": name, "description": desc, "schema": schema}
        elif k == "DAY_OF_YEAR":
            schema = {"type": "string", "pattern": "^[01][0-9]-[0-3][0-9]$", "description": "month-day MM-DD"}
            if isinstance(default, str):
                schema["default"] = default
            out[name] = {"title": name, "description": f"{desc} (MM-DD)", "schema": schema}
        elif k == "DATE":
            schema = {"type": "string", "minLength": 4}
            if isinstance(default, str):
                schema["default"] = default
            out[name] = {"title": name, "description": f"{desc} (YYYY-MM-DD)", "schema": schema}
        elif name == "indexer":
            out["indexer"] = INDEXER
        if name in out and default is None and k != "KWARGS" and not _has(p.default):
            out[name]["required"] = True
    return out


def variable_input(ind) -> dict:
    names = [k for k, p in ind.parameters.items()
             if kind_name(p) in ("VARIABLE", "OPTIONAL_VARIABLE") and not k.endswith("_per")]
    props = {n: {"type": "string", "minLength": 1, "description": V.describe(n)} for n in names}
    return {"title": "Variable mapping",
            "description": "which collection variable is each xclim input (default: matched by CF standard name, then "
                           "name, then a documented alias list): " + "; ".join(V.describe(n) for n in names),
            "schema": {"type": "object", "additionalProperties": False, "properties": props}}


def inputs(ind) -> dict:
    spec = {"collection": COLLECTION, "variables": variable_input(ind), "bbox": BBOX, "polygon": POLYGON,
            "datetime": {**DATETIME, "description": "the period to compute the indicator over (default: all)"},
            "z": {**Z, "description": "vertical level (one value) when the collection has a vertical axis"}}
    pers = per_variables(ind)
    if pers:
        spec["baseline"] = BASELINE
        for name in pers:
            spec[percentile_input(ind, name)] = {
                "title": f"Percentile of {name.removesuffix('_per')}",
                "description": f"{clean(ind.parameters[name].description)} (the percentile, 0-100)",
                "schema": {"type": "number", "minimum": 0, "maximum": 100, "default": percentile_default(ind, name)}}
        spec["percentile_window"] = WINDOW
    spec.update(parameter_inputs(ind))
    spec.update({"missing": MISSING_INPUT, "missing_options": MISSING_OPTIONS, "data_validation": DATA_VALIDATION})
    return spec


def outputs(ind) -> dict:
    cf = ind.cf_attrs
    names = ", ".join(f"{a.get('var_name')} ({clean(a.get('long_name', ''))}; units {a.get('units') or '1'})" for a in cf)
    params = []
    for a in cf:
        for key in ("var_name", "standard_name", "units", "cell_methods", "long_name"):
            if a.get(key):
                params.append({"name": f"{a.get('var_name')}.{key}", "value": [clean(a[key])]})
    return {"result": {
        "title": clean(ind.title) or ind.identifier,
        "description": f"NetCDF with {names}, CF and xclim provenance attributes (also served as collection "
                       "job-{jobId} through EDR, Coverages and Zarr)",
        "schema": {"type": "string", "contentMediaType": NETCDF}, "formats": [NETCDF],
        "additionalParameters": {"title": "CF attributes of the output variables", "parameters": params}}}


def keywords(ind) -> list[str]:
    words = [w for w in re.split(r"[ ,]+", ind.keywords or "") if w]
    return list(dict.fromkeys(["xclim", "climate indicator", ind.realm, ind.identifier, *words]))
