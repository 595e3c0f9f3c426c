"""Values -> pixels: colour ramps, categories, contour lines / filled contours, and the image file.

Continuous styles colour like matplotlib's `cmap(Normalize(vmin, vmax)(v))` (256 colours,
values beyond the range take the end colours) through a lookup table; categorical styles give
each code its colour and anything else nodata; contour styles draw with matplotlib's
contour/contourf on the pixel grid. NaN (nodata, outside the grid) is transparent; JPEG
(no alpha) and `transparent=false` put the background colour there. Images: Pillow.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image

from .palette import Style, category_colours, colormap
from .request import MapRequest, background

LUT_SIZE = 256
PNG_LEVEL = 1  # zlib level: 1 writes a 256 x 256 palette tile ~4x faster than 6, ~8 % larger (3: ~1.5x slower than 1, 3 % smaller)


def lut(style: Style) -> np.ndarray:
    """(256, 4) uint8 RGBA of the style's colormap, as matplotlib samples it."""
    return _lut(style.colormap)


@lru_cache(maxsize=256)
def _lut(name: str) -> np.ndarray:
    from .styles import get_colormap

    table = get_colormap(name).resampled(LUT_SIZE)(np.arange(LUT_SIZE), bytes=True)
    table.setflags(write=False)
    return table


def ramp_index(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Colour index 0..255 of each value (matplotlib's Normalize then Colormap: floor(x * N), clipped)."""
    return ramp_index8(values, vmin, vmax).astype(np.intp)


def ramp_index8(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """`ramp_index` as uint8, in place on one float temporary (NaN -> 0, +inf -> 255, -inf -> 0, as
    matplotlib's Colormap treats nan_to_num'd values after Normalize)."""
    with np.errstate(invalid="ignore"):
        x = np.subtract(values, vmin, dtype="float64")
        x /= (vmax - vmin)
        x *= LUT_SIZE
        np.floor(x, out=x)
        np.clip(x, 0, LUT_SIZE - 1, out=x)  # +-inf to the ends; NaN stays NaN
    x[np.isnan(x)] = 0
    return x.astype(np.uint8)


def colour(values: np.ndarray, style: Style) -> np.ndarray:
    """(h, w) float values -> (h, w, 4) uint8 RGBA; NaN fully transparent."""
    finite = np.isfinite(values)
    if style.kind == "categorical":
        return _categories(values, finite, style)
    if style.kind in ("contour", "filled-contour"):
        return _contours(values, finite, style)
    rgba = lut(style)[ramp_index(values, style.vmin, style.vmax)]
    rgba[~finite] = 0
    return rgba


def _categories(values, finite, style: Style) -> np.ndarray:
    codes = np.asarray([v for v, _ in style.categories or ()], dtype="float64")
    rgba = np.zeros(values.shape + (4,), dtype=np.uint8)
    if codes.size == 0:
        return rgba
    colours = category_colours(style)
    k = np.clip(np.searchsorted(codes, np.where(finite, values, codes[0])), 0, codes.size - 1)
    hit = finite & np.isclose(codes[k], values, rtol=1e-6, atol=1e-9)
    rgba[hit] = colours[k[hit]]
    return rgba


def _contours(values, finite, style: Style) -> np.ndarray:
    """Contour lines or filled bands drawn by matplotlib on a canvas the size of the map."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import BoundaryNorm, Normalize
    from matplotlib.figure import Figure

    h, w = values.shape
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    levels = list(style.levels or (style.vmin, style.vmax))
    if finite.sum() < 4 or h < 2 or w < 2:
        return rgba
    dpi = 100
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi)
    fig.patch.set_alpha(0.0)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.patch.set_alpha(0.0)
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    X, Y = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    data = np.ma.masked_invalid(values)
    cmap = colormap(style)
    if style.kind == "filled-contour":
        ax.contourf(X, Y, data, levels=levels, cmap=cmap, norm=BoundaryNorm(levels, cmap.N), extend="both",
                    antialiased=False)
    else:
        ax.contour(X, Y, data, levels=levels, cmap=cmap, norm=Normalize(style.vmin, style.vmax), linewidths=1.2)
    canvas.draw()
    rgba[:] = np.asarray(canvas.buffer_rgba())[:h, :w]
    if style.kind == "filled-contour":
        rgba[~finite] = 0
    return rgba


def indexed(values: np.ndarray, style: Style) -> tuple[np.ndarray, np.ndarray] | None:
    """The same picture as `colour` as (h, w) uint8 palette indices and an (n, 4) RGBA palette (a PNG of
    one byte a pixel, several times faster to write); None for contour styles, or when all 256 ramp colours
    and nodata occur at once (no free index for transparency)."""
    finite = np.isfinite(values)
    if style.kind == "continuous":
        idx = ramp_index8(values, style.vmin, style.vmax)
        palette = lut(style)
        if not finite.all():
            free = np.flatnonzero(np.bincount(idx[finite], minlength=LUT_SIZE) == 0)
            if free.size == 0:
                return None
            idx[~finite] = free[0]
            palette = palette.copy()
            palette[free[0]] = 0
        return idx, palette
    if style.kind == "categorical":
        codes = np.asarray([v for v, _ in style.categories or ()], dtype="float64")
        if codes.size == 0 or codes.size > 255:
            return None
        k = np.clip(np.searchsorted(codes, np.where(finite, values, codes[0])), 0, codes.size - 1)
        hit = finite & np.isclose(codes[k], values, rtol=1e-6, atol=1e-9)
        idx = np.where(hit, k, codes.size).astype(np.uint8)
        palette = np.zeros((codes.size + 1, 4), dtype=np.uint8)
        palette[:codes.size] = category_colours(style)
        return idx, palette
    return None


def image(values: np.ndarray, style: Style, req: MapRequest) -> bytes:
    """(h, w) values -> the encoded map of `req` in `style` (palette PNG when it can, else RGBA)."""
    if req.format == "png" and req.transparent:
        pal = indexed(values, style)
        if pal is not None:
            idx, palette = pal
            img = Image.fromarray(idx, "P")
            img.putpalette(palette.tobytes(), rawmode="RGBA")
            buf = io.BytesIO()
            img.save(buf, format="PNG", compress_level=PNG_LEVEL)
            return buf.getvalue()
    return encode(colour(values, style), req)


def encode(rgba: np.ndarray, req: MapRequest) -> bytes:
    """RGBA -> PNG / JPEG / WebP bytes. Nodata stays transparent unless `transparent` is False or JPEG."""
    fmt = req.format
    if fmt == "jpeg" or not req.transparent:
        r, g, b = background(req)
        alpha = rgba[..., 3:4].astype(np.float32) / 255.0
        rgb = (rgba[..., :3].astype(np.float32) * alpha + np.array([r, g, b], np.float32) * (1 - alpha) + 0.5)
        img = Image.fromarray(rgb.astype(np.uint8), "RGB")
        if fmt != "jpeg":
            img = img.convert("RGBA")
    else:
        img = Image.fromarray(np.ascontiguousarray(rgba), "RGBA")
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, format="PNG", compress_level=PNG_LEVEL)
    elif fmt == "jpeg":
        img.save(buf, format="JPEG", quality=90)
    else:
        img.save(buf, format="WEBP", lossless=True, quality=50, method=2)
    return buf.getvalue()
