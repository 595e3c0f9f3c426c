"""select_variables remembers the lazy selection per (Dataset, variables) (cubeserver/select/core.py).

What must hold: a caller changing the attributes of what it got (a process adding `history`) changes
neither the collection nor the next caller's selection, and a new Dataset for the same collection (a reload)
is never answered with the old one's selection.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from cubeserver.select.core import select_variables
from tests.conftest import DATASETS


def _open() -> xr.Dataset:
    return xr.open_dataset(DATASETS / "coads_sst.nc", chunks={})


def test_attrs_changed_by_a_caller_stay_its_own():
    ds = _open()
    first = select_variables(ds, ["SST"], ["SST"], "parameter-name")
    first.attrs["history"] = "changed by a process"
    first["SST"].attrs["units"] = "changed"
    again = select_variables(ds, ["SST"], ["SST"], "parameter-name")
    assert "history" not in again.attrs or again.attrs["history"] != "changed by a process"
    assert again["SST"].attrs["units"] == ds["SST"].attrs["units"] != "changed"
    assert ds.attrs.get("history") != "changed by a process"


def test_a_new_dataset_is_selected_anew():
    old = _open()
    before = select_variables(old, ["SST"], ["SST"], "parameter-name")
    new = old.assign(SST=old["SST"] + 1)  # a reloaded collection: another Dataset object
    after = select_variables(new, ["SST"], ["SST"], "parameter-name")
    a, b = before["SST"].isel(TIME=0).values, after["SST"].isel(TIME=0).values
    np.testing.assert_allclose(b[np.isfinite(a)], a[np.isfinite(a)] + 1, rtol=1e-6)


def test_the_memo_lets_a_dropped_dataset_go():
    """A reloaded or closed collection's Dataset is not kept alive by its remembered selection (it would hold
    the old source's arrays and open files): its entries go with it."""
    import gc
    import weakref

    from cubeserver.select import core

    ds = _open()
    select_variables(ds, ["SST"], ["SST"], "parameter-name")
    key = (id(ds), ("SST",))
    assert key in core._selected
    gone = weakref.ref(ds)
    ds.close()
    del ds
    gc.collect()
    assert gone() is None and key not in core._selected
