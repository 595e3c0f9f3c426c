"""Rendering shared by every map-like output (OGC API Maps, Tiles, WMS, quicklooks): field -> image.

`render_map(collection, MapRequest)` selects one 2-D field (slice.py), maps it onto the
requested CRS/bbox/size reading only the cells it needs (warp.py), colours it by a style
(palette.py, draw.py) and encodes PNG/JPEG/WebP. `legend_json`/`legend_png` describe a style.
All functions are blocking: call them through `context.run_blocking`.
Imports are lazy so that `config.py` can import `render.styles` without the array stack.
"""

from __future__ import annotations

__all__ = ["MapRequest", "Style", "render_map", "map_values", "styles_for", "legend_png", "legend_json",
           "find_style", "MEDIA_TYPES", "MAX_SIDE"]


def __getattr__(name):
    if name in ("MapRequest", "MEDIA_TYPES", "MAX_SIDE", "FORMATS"):
        from . import request

        return getattr(request, name)
    if name in ("Style", "styles_for", "find_style"):
        from . import palette

        return getattr(palette, name)
    if name in ("legend_png", "legend_json"):
        from . import legend

        return getattr(legend, name)
    if name in ("render_map", "map_values"):
        from . import maps

        return getattr(maps, name)
    raise AttributeError(name)
