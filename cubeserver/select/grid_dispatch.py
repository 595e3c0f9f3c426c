"""Route a selection function to the curvilinear implementation when the grid has 2-D lat/lon.

`select.geometry` and `select.core` wrap their public functions with `dispatch` at the end
of the module, so every caller (EDR, Coverages, Processes) gets the right answer for any
grid without knowing which kind it is. Kept apart from `select.curvilinear` so the modules
can import each other's definitions without a cycle.
"""

from __future__ import annotations

import functools
import importlib

from ..axes import AxisModel

CURVILINEAR = "cubeserver.select.curvilinear"


def dispatch(regular):
    """`regular` for grids with 1-D X/Y axes; the function of the same name in `select.curvilinear`
    when the AxisModel argument (first or second positional, or `axes=`) has `curvilinear` set."""
    name = regular.__name__

    @functools.wraps(regular)
    def choose(*args, **kwargs):
        axes = kwargs.get("axes") or next((a for a in args[:2] if isinstance(a, AxisModel)), None)
        if axes is not None and axes.curvilinear is not None:
            return getattr(importlib.import_module(CURVILINEAR), name)(*args, **kwargs)
        return regular(*args, **kwargs)

    choose.regular = regular
    return choose
