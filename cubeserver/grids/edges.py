"""Outer cell edges of 1-D axes of cell centres, when the file stores no bounds (CF 7.1)."""

from __future__ import annotations

import numpy as np


def outer_edges(values: np.ndarray) -> tuple[float, float]:
    """Outer cell edges of a 1-D axis of cell centres, ascending or descending, regular or not:
    each end cell reaches half the way to its neighbour (the edges of CF 7.1 bounds when none are stored)."""
    v = np.sort(np.asarray(values, dtype="float64"))
    if v.size < 2:
        return float(v[0]), float(v[-1])
    return float(v[0] - (v[1] - v[0]) / 2), float(v[-1] + (v[-1] - v[-2]) / 2)
