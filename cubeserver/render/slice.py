"""One 2-D field of a variable: the time step, level and extra-dimension values a map asks for.

The rest of the variable's dimensions are fixed to one index each, lazily: nothing is read
here. Values must be in the data (exact time steps, levels to float tolerance): a map of a
time or level that does not exist is a 400 naming `datetime` or `subset`, not a silent
neighbour.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..axes import iso_times
from ..errors import BadRequest

SHOWN = 12  # values listed in an error message
INDEX_MEMO = 4096  # (parameter, datetime, subset) -> indices answers kept per collection
_INDEX_KEY = "render.indices"


def _shown(values) -> str:
    vals = list(values)
    if len(vals) <= SHOWN:
        return ", ".join(map(str, vals))
    return ", ".join(map(str, vals[:SHOWN // 2])) + f", ... ({len(vals)} values) ..., " + ", ".join(
        map(str, vals[-SHOWN // 2:]))


def time_index(c, text: str | None) -> int:
    """Index of the time step `text` (RFC 3339 instant, exact in the axis's calendar); None -> the latest step."""
    from ..query.times import parse_datetime
    from ..select.times import same_instant

    ax = c.axes
    n = len(ax.t_values)
    if text is None or str(text).strip() == "":
        return n - 1
    text = str(text).strip()
    sel = parse_datetime(text, "datetime")  # a malformed value: its own 400
    if sel is None or sel.interval or len(sel.instants) != 1:
        raise BadRequest(f"datetime: a map shows one time step; give one instant, e.g. {iso_times(ax.t_values[-1:])[0]}",
                         parameter="datetime")
    i = same_instant(ax.t_values, text)
    if i is None:
        raise BadRequest(f"datetime: {text} is not a time step of this collection; steps are "
                         f"{_shown(iso_times(ax.t_values))}", parameter="datetime")
    return i


def _value_index(coord: xr.DataArray, value, dim: str) -> int:
    """Index of `value` on a 1-D coordinate: numbers to float tolerance, times and text exactly."""
    values = np.asarray(coord.values)
    if np.issubdtype(values.dtype, np.number):
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise BadRequest(f"subset: {dim}({value}) is not a number; values are {_shown(values.tolist())}",
                             parameter="subset") from None
        hit = np.flatnonzero(np.isclose(values.astype("float64"), v, rtol=1e-6, atol=1e-9))
        shown = [f"{x:g}" for x in values.astype("float64")]
    else:
        times = values.dtype.kind == "M" or (values.dtype == object and values.size and hasattr(values.flat[0], "calendar"))
        text = iso_times(values) if times else [str(x) for x in values]
        hit = np.flatnonzero(np.asarray(text) == str(value).strip('"'))
        shown = text
    if hit.size == 0:
        units = coord.attrs.get("units")
        raise BadRequest(f"subset: {value} is not one of the {dim} values ({_shown(shown)}{' ' + units if units else ''})",
                         parameter="subset")
    return int(hit[0])


def check_parameter(c, parameter: str) -> None:
    if c.ds is None or parameter not in c.variables:
        available = ", ".join(c.variables) if c.ds is not None else "none (not a gridded collection)"
        raise BadRequest(f"properties: unknown field {parameter!r}; available: {available}", parameter="properties")


def indices(c, parameter: str, datetime: str | None = None, subset: dict | None = None, time: bool = True) -> dict[str, int]:
    """Index of every non-spatial dimension of `parameter`: the time step of `datetime` (the latest when
    None; left out when `time` is False), the z / extra values of `subset` (the first when not given).

    Raises BadRequest naming `properties`, `datetime` or `subset`. Answers are kept per collection
    (INDEX_MEMO of them; a collection's axes never change), since every tile of a layer asks the same.
    """
    memo = c.extra.setdefault(_INDEX_KEY, {})
    key = (parameter, datetime, tuple(sorted((str(k), str(v)) for k, v in (subset or {}).items())), time)
    hit = memo.get(key)
    if hit is not None:
        return dict(hit)
    index = _indices(c, parameter, datetime, subset, time)
    if len(memo) >= INDEX_MEMO:
        memo.clear()
    memo[key] = dict(index)
    return index


def _indices(c, parameter: str, datetime: str | None, subset: dict | None, time: bool) -> dict[str, int]:
    ax = c.axes
    check_parameter(c, parameter)
    var = c.ds[parameter]
    others = [str(d) for d in var.dims if d not in (ax.x, ax.y)]
    given = {str(k): v for k, v in (subset or {}).items()}
    by_name = {d.lower(): d for d in others}
    if ax.z in others:
        by_name.setdefault("z", ax.z)
        by_name.setdefault("elevation", ax.z)
    chosen: dict[str, object] = {}
    for key, value in given.items():
        dim = by_name.get(key.lower())
        if dim is None or dim == ax.t:
            allowed = [d for d in others if d != ax.t]
            raise BadRequest(f"subset: {key!r} is not a dimension of {parameter}; "
                             f"{'allowed: ' + ', '.join(allowed) + ' (z for the vertical axis)' if allowed else 'it has none besides x/y/time'}"
                             + ("; the time step is chosen with datetime" if dim == ax.t and dim else ""),
                             parameter="subset")
        chosen[dim] = value
    index: dict[str, int] = {}
    for d in others:
        if d == ax.t:
            if time:
                index[d] = time_index(c, datetime)
        elif d in chosen:
            if d in var.coords and var[d].ndim == 1:
                index[d] = _value_index(var[d], chosen[d], d)
            else:  # a dimension without coordinate values: an index
                try:
                    i = int(str(chosen[d]))
                except ValueError:
                    i = -1
                if not 0 <= i < var.sizes[d]:
                    raise BadRequest(f"subset: {d} has no values, only indices 0..{var.sizes[d] - 1}", parameter="subset")
                index[d] = i
        else:
            index[d] = 0
    if time and datetime not in (None, "") and (ax.t is None or ax.t not in others):
        raise BadRequest(f"datetime: {parameter} has no time axis", parameter="datetime")
    return index


def field_2d(c, req) -> xr.DataArray:
    """The lazy (y, x) DataArray of `req.parameter` at the asked time / z / extra values.

    Raises BadRequest naming `properties`, `datetime` or `subset`.
    """
    ax = c.axes
    index = indices(c, req.parameter, req.datetime, req.subset)
    return c.ds[req.parameter].isel(index).transpose(ax.y, ax.x)
