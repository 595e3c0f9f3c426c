"""Paths on a grid: a (Multi)LineString split into its parts and sampled every half cell.

Shared by regular/projected grids (select/geometry.py, in native cells) and curvilinear
grids (select/curvilinear.py, in degrees of the median cell spacing), so trajectories and
corridors sample paths the same way everywhere.
"""

from __future__ import annotations

import numpy as np

from ..errors import TooLarge

MAX_SAMPLES = 1_000_000


def _parts(xs, ys, geom) -> list[np.ndarray]:
    """Split flat vertex arrays back into the parts of a (Multi)LineString."""
    lines = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    out, start = [], 0
    for ln in lines:
        n = len(ln.coords)
        out.append(np.column_stack([xs[start:start + n], ys[start:start + n]]))
        start += n
    return out


def densify(geom, gx: np.ndarray, gy: np.ndarray, series: dict, param: str) -> tuple:
    """Samples every half cell along each part of a (Multi)LineString, the `series` interpolated per sample.

    `gx`/`gy`: the vertices in grid cells (coordinates divided by the cell spacing), which set
    how many samples each segment gets; `series`: {"x", "y", "m", "z"} per-vertex values (None
    when absent) interpolated linearly. Returns (x, y, m, z) per sample (None stays None).
    Raises TooLarge beyond MAX_SAMPLES (checked as floats, before any cast can overflow).
    """
    out = {k: [] for k in series}
    start = 0
    for part in _parts(gx, gy, geom):
        n = len(part)
        sl = slice(start, start + n)
        seg = np.maximum(np.abs(np.diff(gx[sl])), np.abs(np.diff(gy[sl])))
        steps = np.maximum(1.0, np.ceil(2 * seg))
        if steps.sum() > MAX_SAMPLES:
            raise TooLarge(f"{param}: the path crosses more than {MAX_SAMPLES:,} grid cells; shorten it")
        steps = steps.astype(int)
        frac = np.concatenate([np.arange(s) / s for s in steps] + [np.array([1.0])])
        seg_i = np.concatenate([np.full(s, i) for i, s in enumerate(steps)] + [np.array([n - 2])])
        for key, vals in series.items():
            if vals is None:
                continue
            v = np.asarray(vals, dtype="float64")[sl]
            out[key].append(v[seg_i] + frac * (v[seg_i + 1] - v[seg_i]))
        start += n
    cat = {k: (np.concatenate(v) if v else None) for k, v in out.items()}
    return cat["x"], cat["y"], cat["m"], cat["z"]
