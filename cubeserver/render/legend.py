"""Legends of a style: JSON colour stops (values in the variable's units) and a PNG colour bar.

JSON: `{"parameter", "units", "style", "kind", "title", "stops": [{"value", "color"}]}`;
continuous styles give 11 evenly spaced stops from vmin to vmax (the colour each value gets
on a map), contour styles one stop per level, categorical styles one stop per code with its
`label` (CF flag_meanings).
"""

from __future__ import annotations

import io

import numpy as np

from .draw import lut, ramp_index
from .palette import Style, category_colours, colormap, find_style

CONTINUOUS_STOPS = 11


def _hex(rgba) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgba[:3]))


def stops(style: Style) -> list[dict]:
    if style.kind == "categorical":
        colours = category_colours(style)
        return [{"value": v, "color": _hex(colours[i]), "label": label} for i, (v, label) in enumerate(style.categories or ())]
    values = (np.asarray(style.levels, dtype="float64") if style.kind in ("contour", "filled-contour") and style.levels
              else np.linspace(style.vmin, style.vmax, CONTINUOUS_STOPS))
    if style.kind == "filled-contour":  # the colour of each band [level, next level): BoundaryNorm
        from matplotlib.colors import BoundaryNorm

        cmap = colormap(style)
        norm = BoundaryNorm(values, cmap.N, extend="both")
        return [{"value": float(v), "color": _hex(cmap(norm(v), bytes=True))} for v in values]
    table = lut(style)
    return [{"value": float(v), "color": _hex(table[ramp_index(np.array([v]), style.vmin, style.vmax)[0]])} for v in values]


def legend_json(collection, parameter: str, style: str | None = None, subset: dict | None = None) -> dict:
    """The legend of `style` (None: default) of a variable as colour stops; 400 `properties`, 404 unknown style.
    `subset`: the z / extra dimension values of the map it goes with (their range, see styles_for)."""
    s = find_style(collection, parameter, style, subset)
    return {"parameter": parameter, "units": s.units, "style": s.id, "title": s.title, "kind": s.kind,
            "colormap": s.colormap, "range": [s.vmin, s.vmax], "stops": stops(s)}


def legend_png(collection, parameter: str, style: str | None = None, width: int = 120, height: int = 300,
               subset: dict | None = None) -> bytes:
    """A colour bar with ticks and the units, `width` x `height` pixels (vertical when taller than wide)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colorbar import ColorbarBase
    from matplotlib.colors import BoundaryNorm, Normalize
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    s = find_style(collection, parameter, style, subset)
    var = collection.ds[parameter]
    label = f"{var.attrs.get('long_name') or parameter}" + (f" ({s.units})" if s.units else "")
    dpi = 100
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    vertical = height >= width
    ax = fig.add_axes((0.08, 0.05, 0.22, 0.9) if vertical else (0.05, 0.55, 0.9, 0.25))
    if s.kind == "categorical":  # a list of swatches with their labels (CF flag_meanings)
        fig.delaxes(ax)
        cats = s.categories or ()
        colours = category_colours(s) / 255.0
        rows = max(len(cats), 1) + 1
        step = min(1.0 / rows, 16.0 / height)
        fig.text(0.03, 1 - step * 0.8, label, fontsize=7, va="center", ha="left")
        for i, (_, text) in enumerate(cats):
            y = 1 - step * (i + 1.8)
            fig.patches.append(Rectangle((0.03, y - step * 0.35), 0.12 * min(1.0, height / width), step * 0.7,
                                         transform=fig.transFigure, facecolor=colours[i], edgecolor="0.3", lw=0.5))
            fig.text(0.2, y, text, fontsize=7, va="center", ha="left")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", transparent=False)
        return buf.getvalue()
    elif s.kind == "filled-contour" and s.levels:
        cmap = colormap(s)
        cb = ColorbarBase(ax, cmap=cmap, norm=BoundaryNorm(list(s.levels), cmap.N, extend="both"),
                          orientation="vertical" if vertical else "horizontal", extend="both")
    else:
        cb = ColorbarBase(ax, cmap=colormap(s), norm=Normalize(s.vmin, s.vmax),
                          orientation="vertical" if vertical else "horizontal")
    cb.ax.tick_params(labelsize=7)
    cb.set_label(label, fontsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", transparent=False)
    return buf.getvalue()
