"""CF companion variables: the variables that describe a data variable and travel with it.

- grid-mapping variables (CF 1.11 section 5.6), named by `grid_mapping`;
- bounds variables (CF 7.1, and `climatology` 7.4) of its coordinates, named by `bounds`;
- formula-terms variables (CF 4.3.3, Appendix D) of its parametric vertical coordinate.

Grid mappings and bounds are coordinates from the moment a dataset is opened (`promote`, as
xarray's `decode_coords="all"` does), so they are never servable parameters and the
dimensions only they use (`bnds`, `nv`, ...) are never axes. `companion_names` lists what a
selection must carry so every isel (window, points, levels) subsets them with the data, and
NetCDF answers keep a CF-complete description (clients such as cf-xarray and pyproj read
the CRS, bounds and vertical formula back).
"""

from __future__ import annotations

import xarray as xr

from .grid_mapping import grid_mapping_names, parse_grid_mapping
from .vertical import is_parametric, parse_formula_terms

BOUNDS_ATTRS = ("bounds", "climatology")


def _attr(var: xr.Variable | xr.DataArray, key: str) -> str | None:
    return var.attrs.get(key) or var.encoding.get(key)


def bounds_names(ds: xr.Dataset) -> list[str]:
    """Variables named by a `bounds`/`climatology` attribute of another variable."""
    out = []
    for v in ds.variables.values():
        for key in BOUNDS_ATTRS:
            name = _attr(v, key)
            if isinstance(name, str) and name in ds.variables and name not in out:
                out.append(name)
    return out


def promote(ds: xr.Dataset) -> xr.Dataset:
    """Grid-mapping and bounds variables become coordinates (they describe data, they are not data)."""
    names = [n for n in [*grid_mapping_names(ds), *bounds_names(ds)] if n in ds.data_vars]
    return ds.set_coords(names) if names else ds


def bounds_only_dims(ds: xr.Dataset) -> set[str]:
    """Dimensions that only bounds variables use (`bnds`, `nv`, `bnds_4`, ...): never axes (CF 7.1)."""
    bnds = set(bounds_names(ds))
    used = {d for n, v in ds.variables.items() if n not in bnds for d in v.dims}
    return {str(d) for d in ds.dims if d not in used}


def companion_names(ds: xr.Dataset, names: list[str]) -> list[str]:
    """Variables that must accompany the data variables `names` in an answer, in a stable order.

    Grid mappings of the variables and of their coordinates, bounds of their coordinates, and
    the formula terms (with their bounds) of a parametric vertical coordinate among them.
    """
    out: list[str] = []

    def add(name) -> None:
        if isinstance(name, str) and name in ds.variables and name not in names and name not in out:
            out.append(name)

    for n in names:
        var = ds[n]
        dims = set(var.dims)
        related = [var.variable] + [c.variable for c in ds.coords.values() if set(c.dims) <= dims]
        for v in related:
            for gm, _ in parse_grid_mapping(_attr(v, "grid_mapping")):
                add(gm)
            for key in BOUNDS_ATTRS:
                add(_attr(v, key))
            if is_parametric(v):
                for term in parse_formula_terms(v.attrs.get("formula_terms", "")).values():
                    add(term)
                    if term in ds.variables:
                        add(_attr(ds.variables[term], "bounds"))
    return out


def with_companions(ds: xr.Dataset, selected: xr.Dataset) -> xr.Dataset:
    """`selected` (ds[names]) plus the companions of its data variables, as coordinates."""
    extra = [n for n in companion_names(ds, [str(v) for v in selected.data_vars]) if n not in selected.variables]
    if not extra:
        return selected
    return selected.assign_coords({n: ds.variables[n] for n in extra})


def drop_bounds(ds: xr.Dataset, dims) -> xr.Dataset:
    """Without the bounds of coordinates along `dims` (after scaling or reprojection they no longer
    describe the cells), and without the `bounds` attributes naming them."""
    dims = set(dims)
    names = []
    for c in ds.coords.values():
        if dims & set(c.dims):
            for key in BOUNDS_ATTRS:
                name = _attr(c, key)
                if isinstance(name, str) and name in ds.variables:
                    names.append(name)
    if not names:
        return ds
    out = ds.drop_vars(names)
    for c in out.coords.values():
        for key in BOUNDS_ATTRS:
            if _attr(c, key) in names:
                c.attrs.pop(key, None)
                c.encoding.pop(key, None)
    return out
