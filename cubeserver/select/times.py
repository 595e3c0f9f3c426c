"""Time-axis selection in the axis's own CF calendar: instants, lists and intervals -> index positions.

Shared by EDR (`datetime`), Coverages (`datetime`, `subset=time(...)`) and process inputs.
The axis is read once as integer microseconds since 1970-01-01 of its calendar
(`cubeserver.query.cftimes.axis_micros`, cached on the AxisModel), and every request
value is converted into the same count, so numpy and cftime axes (any CF calendar)
are one code path.
"""

from __future__ import annotations

import numpy as np

from ..axes import AxisModel
from ..errors import BadRequest
from ..query.cftimes import axis_micros, bound, conversion_calendar
from ..query.times import TimeSelection

_CACHE = "_t_micros"


def t_micros(axes: AxisModel) -> np.ndarray:
    """The T axis as int64 microseconds since 1970-01-01 in its calendar; computed once per AxisModel."""
    cached = axes.__dict__.get(_CACHE)
    if cached is None or cached[0] is not axes.t_values:
        cached = (axes.t_values, axis_micros(axes.t_values, axes.calendar))
        axes.__dict__[_CACHE] = cached
    return cached[1]


def _extent(axes: AxisModel) -> str:
    return " / ".join(axes.time_interval() or [])


def time_indices(axes: AxisModel, sel: TimeSelection, param: str = "datetime") -> np.ndarray:
    """Positions on the T axis, ascending and unique.

    An interval is inclusive (an end written as a day, month or year covers all of it;
    a day the calendar lacks clamps to the calendar, see cftimes.bound). An instant takes
    the exact step or the nearest one within half a step of the extent; a day the calendar
    lacks is a 400. Errors name `param` and show the extent.
    """
    if axes.t is None:
        raise BadRequest(f"{param}: this collection has no time axis", parameter=param)
    vals = t_micros(axes)
    cal = conversion_calendar(axes.t_values, axes.calendar)
    shown_cal = axes.calendar
    if sel.interval:
        mask = np.ones(len(vals), dtype=bool)
        lo = hi = None
        if sel.start is not None:
            lo, _ = _bound(sel.start, cal, shown_cal, "start", param)
            mask &= vals >= lo
        if sel.end is not None:
            hi, exclusive = _bound(sel.end, cal, shown_cal, "end", param)
            mask &= (vals < hi) if exclusive else (vals <= hi)
            if lo is not None and (lo > hi or (exclusive and lo == hi)):
                raise BadRequest(f"{param}: interval start {sel.start} is after its end {sel.end}", parameter=param)
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            raise BadRequest(f"{param}: {sel.text!r} selects no time step; the temporal extent is {_extent(axes)}",
                             parameter=param)
        return idx
    out = []
    half = _half_step(vals)
    for ct in sel.instants:
        t, _ = _bound(ct, cal, shown_cal, "instant", param)
        same_second = np.flatnonzero(vals // 1_000_000 == t // 1_000_000)
        if same_second.size:  # a step as the server publishes it (whole seconds; stored 17:10:00.000018)
            out.append(int(same_second[np.argmin(np.abs(vals[same_second] - t))]))
            continue
        if t < vals.min() - half or t > vals.max() + half:
            raise BadRequest(f"{param}: {ct} is outside the temporal extent {_extent(axes)}", parameter=param)
        out.append(int(np.argmin(np.abs(vals - t))))
    return np.array(sorted(set(out)), dtype=int)


def _bound(ct, cal: str, shown_cal: str, role: str, param: str):
    """cftimes.bound, with the axis's calendar name (not the conversion one) in messages."""
    try:
        return bound(ct, cal, role, param)
    except BadRequest as e:
        if cal != shown_cal:
            e.detail = str(e.detail).replace(f"the {cal} calendar", f"the {shown_cal} calendar")
        raise


def _half_step(vals: np.ndarray) -> int:
    if len(vals) < 2:
        return 0
    return int(abs(vals[1] - vals[0]) // 2)


def same_instant(values: np.ndarray, text: str) -> int | None:
    """Position of the instant written as `text` (any RFC 3339 spelling) in a time array, or None."""
    from ..errors import APIError
    from ..query.times import parse_time

    values = np.asarray(values)
    if values.ndim != 1 or values.size == 0:
        return None
    cal = conversion_calendar(values, getattr(values.flat[0], "calendar", None) or "standard")
    try:
        us, _ = bound(parse_time(text, "instanceId"), cal, "instant", "instanceId")
    except APIError:
        return None
    micros = axis_micros(values, cal)
    hits = np.flatnonzero(micros == us)
    if not hits.size and "." not in text:
        # the server publishes its time steps to the second (extent values, iso_times): a step stored
        # with a fraction of a second (float encodings: 01:20:05.999999996) is named by its whole second
        hits = np.flatnonzero(micros // 1_000_000 == us // 1_000_000)
    return int(hits[0]) if hits.size else None


def with_time_bounds(out, source):
    """`out` with the bounds/climatology coordinates of its time dimensions put back (CF 7.1, 7.4).

    Selecting variables drops coordinates with a dimension the variables lack (`bnds`);
    the time bounds belong with the time axis in NetCDF and Zarr answers.
    """
    from ..axes import is_datetime_like

    extra = {}
    for dim in out.dims:
        if dim not in out.coords or out[dim].ndim != 1 or not is_datetime_like(out[dim].values):
            continue
        attrs, enc = out[dim].attrs, out[dim].encoding
        for key in ("bounds", "climatology"):
            name = attrs.get(key) or enc.get(key)
            if isinstance(name, str) and name in source.coords and name not in out.coords and dim in source[name].dims:
                extra[name] = source[name]
    return out.assign_coords(extra) if extra else out
