"""Styles of a variable: colormap, value range, kind, contour levels and categories.

`styles_for(collection, parameter)` lists the styles a variable can be drawn with: `default`
(the configured style, else one chosen from the data), and for continuous fields `contours`
and `filled-contours`, plus the `extra` styles of the config (cubeserver.render.styles).
The value range is the configured one, else the data's robust 2-98 % range, computed once
per collection and variable from a strided sample of a few time steps and levels and cached
on the Collection (so every tile of a layer uses the same range). Categorical fields (CF
flag_values/flag_meanings, CF 3.5, or integer codes) get one colour per code.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import numpy as np

from ..errors import NotFound
from .. import dask_local
from ..select.scale import is_categorical
from .styles import get_colormap

SAMPLE_SIDE = 1024  # the range sample: at most this many cells per side (all of a smaller grid) ...
SAMPLE_STEPS = 3  # ... at this many time steps / levels per extra dimension
MAX_CLASSES = 64  # integer fields with more distinct values are continuous
DIVERGING = 0.2  # a field changing sign gets RdBu_r when its smaller side is at least this share
DEFAULT_LEVELS = 10
_CACHE_KEY = "render.ranges"
_STYLES_KEY = "render.styles"
_lock = threading.Lock()


@dataclass(frozen=True)
class Style:
    """One way of drawing a variable. `kind`: continuous | categorical | contour | filled-contour.

    `vmin`/`vmax`: the colour ramp's range in `units`; `levels`: contour levels (contour kinds);
    `categories`: ((code, label), ...) for categorical styles, in code order.
    """

    id: str
    title: str
    colormap: str
    vmin: float | None
    vmax: float | None
    units: str | None
    kind: str
    levels: tuple[float, ...] | None = None
    categories: tuple[tuple[float, str], ...] | None = None


def _sample(c, name: str, fixed: dict | None = None) -> np.ndarray:
    """A strided float64 sample of the variable at the `fixed` indices (z / extra dimensions) and a few
    time steps (or a few values of any dimension not fixed), NaN for nodata."""
    from .warp import _nodata_as_nan  # the same nodata rule as the maps

    ax = c.axes
    var = c.ds[name]
    index = {}
    for d in var.dims:
        n = var.sizes[d]
        if d in (ax.x, ax.y):
            index[d] = slice(None, None, max(1, int(np.ceil(n / SAMPLE_SIDE))))
        elif fixed and d in fixed:
            index[d] = [int(fixed[d])]
        else:
            index[d] = np.unique(np.linspace(0, n - 1, min(n, SAMPLE_STEPS)).astype(int))
    part = var.isel(index)
    values = np.asarray(part.compute(scheduler=dask_local.threads).values)
    return _nodata_as_nan(part, values)


def _flags(var) -> tuple[tuple[float, str], ...] | None:
    """((value, meaning), ...) from CF flag_values / flag_meanings (CF 3.5), None without flag_values."""
    values = var.attrs.get("flag_values")
    if values is None:
        return None
    values = [float(v) for v in np.atleast_1d(values)]
    text = str(var.attrs.get("flag_meanings", ""))
    labels = text.split()
    if len(labels) != len(values):
        labels = [t.strip() for t in text.split(",")]
    if len(labels) != len(values):
        labels = [f"{v:g}" for v in values]
    return tuple(sorted(zip(values, labels)))


def data_summary(c, name: str, fixed: dict | None = None) -> dict:
    """{"range": (lo, hi), "codes": ((code, label), ...) or None} of a variable at the `fixed` z / extra
    dimension indices (over a few time steps), computed once per (variable, indices) and cached on `c`."""
    cache = c.extra.setdefault(_CACHE_KEY, {})
    key = (name, tuple(sorted((fixed or {}).items())))
    if key in cache:
        return cache[key]
    with _lock:
        if key in cache:
            return cache[key]
        var = c.ds[name]
        data = _sample(c, name, fixed)
        finite = data[np.isfinite(data)]
        if finite.size:
            lo, hi = (float(v) for v in np.percentile(finite, [2, 98]))
            if lo == hi:
                lo, hi = float(finite.min()), float(finite.max())
        else:
            lo, hi = 0.0, 1.0
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        codes = None
        flags = _flags(var)
        if flags is not None:
            codes = flags
        elif is_categorical(var) and var.dtype != np.uint8:
            u = np.unique(finite)
            if 0 < u.size <= MAX_CLASSES:
                codes = tuple((float(v), f"{v:g}") for v in u)
        cache[key] = {"range": (lo, hi), "codes": codes}
        return cache[key]


def _levels(levels, vmin: float, vmax: float) -> tuple[float, ...]:
    from matplotlib.ticker import MaxNLocator

    if isinstance(levels, (list, tuple)):
        return tuple(float(v) for v in levels)
    ticks = MaxNLocator(nbins=int(levels or DEFAULT_LEVELS)).tick_values(vmin, vmax)
    ticks = [float(t) for t in ticks if vmin - 1e-9 * abs(vmax - vmin) <= t <= vmax + 1e-9 * abs(vmax - vmin)]
    return tuple(ticks) if len(ticks) >= 2 else (vmin, vmax)


def _derive(base: Style, cfg, sid: str, title: str) -> Style:
    """`base` with the fields set in a config entry (None fields inherit)."""
    kind = cfg.kind or base.kind
    vmin, vmax = (cfg.range if cfg.range else (base.vmin, base.vmax))
    levels = base.levels
    if kind in ("contour", "filled-contour"):
        levels = _levels(cfg.levels if cfg.levels is not None else (list(base.levels) if base.levels else None),
                         vmin, vmax)
    return replace(base, id=sid, title=cfg.title or title, colormap=cfg.colormap or base.colormap,
                   vmin=vmin, vmax=vmax, kind=kind, levels=levels,
                   categories=base.categories if kind == "categorical" else None)


def styles_for(c, parameter: str, subset: dict | None = None) -> list[Style]:
    """The styles of one variable of a gridded collection, `default` first. 400 `properties` if unknown.

    `subset` (z / extra dimension -> value, as in MapRequest; default: the first values) picks the level
    whose robust range the unconfigured styles use: a geopotential at 850 hPa and at 200 hPa differ by
    more than either's own range. The range is the same for every map / tile of that level.
    """
    from .slice import indices

    fixed = indices(c, parameter, subset=subset, time=False)
    memo = c.extra.setdefault(_STYLES_KEY, {})
    key = (parameter, tuple(sorted(fixed.items())))
    if key not in memo:
        memo[key] = _styles(c, parameter, fixed)
    return list(memo[key])


def _styles(c, parameter: str, fixed: dict) -> list[Style]:
    var = c.ds[parameter]
    info = data_summary(c, parameter, fixed)
    cfg = (c.config.styles or {}).get(parameter)
    units = var.attrs.get("units")
    name = var.attrs.get("long_name") or parameter
    lo, hi = info["range"]
    codes = info["codes"]
    if codes is not None:
        palette = "tab10" if len(codes) <= 10 else "tab20" if len(codes) <= 20 else "turbo"
        base = Style("default", f"{name}: categories", palette, min(v for v, _ in codes), max(v for v, _ in codes),
                     units, "categorical", categories=codes)
    elif var.dtype == np.uint8:  # 8-bit imagery (a band of a scene): grey, as image viewers show it
        base = Style("default", f"{name}: gray", "gray", lo, hi, units, "continuous")
    elif lo < 0 < hi and min(-lo, hi) > DIVERGING * max(-lo, hi):
        m = max(abs(lo), abs(hi))
        base = Style("default", f"{name}: RdBu_r, centred on 0", "RdBu_r", -m, m, units, "continuous")
    else:
        base = Style("default", f"{name}: viridis", "viridis", lo, hi, units, "continuous")
    if cfg is not None:
        base = _derive(base, cfg, "default", cfg.title or f"{name}: {cfg.colormap or base.colormap}")
        if base.kind == "categorical" and base.categories is None:  # configured categorical on float codes
            finite = np.unique(_sample(c, parameter, fixed))
            finite = finite[np.isfinite(finite)][:MAX_CLASSES]
            base = replace(base, categories=tuple((float(v), f"{v:g}") for v in finite))
    out = [base]
    if base.kind != "categorical":
        cont = replace(base, kind="continuous", levels=None)
        for sid, kind, label in (("contours", "contour", "contour lines"), ("filled-contours", "filled-contour", "filled contours")):
            if base.kind != kind:
                levels = _levels(cfg.levels if cfg is not None and cfg.levels is not None else None, base.vmin, base.vmax)
                out.append(replace(cont, id=sid, title=f"{name}: {label}", kind=kind, levels=levels))
    for extra in (cfg.extra if cfg is not None else []):
        out.append(_derive(base, extra, extra.id, extra.title or f"{name}: {extra.id}"))
    return out


def find_style(c, parameter: str, style: str | None, subset: dict | None = None) -> Style:
    """The style `style` of the variable (None or 'default': the default); 404 naming the styles there are."""
    styles = styles_for(c, parameter, subset)
    if style in (None, "", "default"):
        return styles[0]
    for s in styles:
        if s.id == style:
            return s
    raise NotFound(f"style {style!r} is not a style of {parameter}; styles: {', '.join(s.id for s in styles)}",
                   parameter="styles")


def colormap(style: Style):
    return get_colormap(style.colormap)


def category_colours(style: Style) -> np.ndarray:
    """(n, 4) uint8 RGBA, one per category: a qualitative colormap's own colours in turn, else evenly sampled."""
    cmap = colormap(style)
    n = len(style.categories or ())
    listed = getattr(cmap, "colors", None)
    if listed is not None and len(listed) <= 20 and n <= len(listed):
        return cmap(np.arange(n), bytes=True)
    return cmap(np.linspace(0, 1, max(n, 1)), bytes=True)
