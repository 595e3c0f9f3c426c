"""list_collections and describe_collection: what an agent needs to pick data and ask the right question.

Both read the registry as the calling identity (private collections are invisible, as on
`/collections`), the axis model (`cubeserver.axes`) and the EDR metadata helpers; nothing is
computed from the data beyond the coordinates the registry already holds.
"""

from __future__ import annotations

import numpy as np

from ..axes import crs_label, crs_uri, iso_times
from ..edr import instances
from ..edr.metadata import data_queries
from ..registry import Collection
from .calls import Env
from .models import AxisInfo, CollectionDescription, CollectionList, CollectionSummary, VariableInfo, ZSummary

SHOWN_VALUES = 50
DATA_TOOLS = ["point_series", "area_statistics", "vertical_profile", "subset_link", "render_map"]


def plain(v):
    """numpy scalars -> JSON values; NaN/inf -> None."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def edr_view(env: Env, cid: str) -> Collection:
    """The gridded collection as EDR queries see it (the latest run of a collection with instances)."""
    env.used.append(cid)
    c = env.app.registry.gridded(cid)
    return instances.latest(c) if instances.has_instances(c) else c


def _bbox(c: Collection) -> list[float]:
    b = c.axes.crs84_bbox() if c.ds is not None else c.features.bbox
    return [round(float(v), 6) for v in b]


def summary(c: Collection) -> CollectionSummary:
    if c.ds is None:
        return CollectionSummary(id=c.id, title=c.title, kind="features", bbox_crs84=_bbox(c), features=len(c.features))
    ax = c.axes
    z = None if ax.z is None else ZSummary(name=ax.z, units=ax.z_units, count=len(ax.z_values))
    return CollectionSummary(id=c.id, title=c.title, kind="coverage", variables=c.variables, bbox_crs84=_bbox(c),
                             time_interval=ax.time_interval(), z=z)


def _matches(c: Collection, words: list[str]) -> bool:
    cc = c.config
    text = " ".join([c.id, c.title, cc.description or "", " ".join(cc.keywords)]).lower()
    if c.ds is not None:
        for name in c.variables:
            attrs = c.ds[name].attrs
            text += " " + " ".join(str(x) for x in (name, attrs.get("long_name", ""), attrs.get("standard_name", "")))
    return all(w in text for w in words)


def list_collections(env: Env, text: str | None, kind: str | None, limit: int | None = None,
                     offset: int = 0) -> CollectionList:
    """Collections visible to the caller whose id, title, description, keywords or variable names
    contain every word of `text` (case-insensitive); `kind` coverage | features narrows further.
    One page of `limit` (None: all) from `offset`; `next_offset` when more match."""
    words = [w for w in (text or "").lower().split() if w]
    found = [c for c in env.app.registry if (kind is None or c.kind == kind) and _matches(c, words)]
    page = found[offset:] if limit is None else found[offset:offset + limit]
    more = offset + len(page) < len(found)
    return CollectionList(collections=[summary(c) for c in page], matched=len(found),
                          next_offset=offset + len(page) if more else None)


def _axis(c: Collection, dim: str, role: str) -> AxisInfo:
    ax = c.axes
    if role == "x":
        values = ax.x_values
    elif role == "y":
        values = ax.y_values
    elif role == "z":
        values = ax.z_values
    elif role == "t":
        values = ax.t_values
    else:
        values = c.ds[dim].values
    values = np.asarray(values)
    var = c.ds[dim] if dim in c.ds.variables else None
    units = None if var is None else var.attrs.get("units")
    if role == "t":
        shown = iso_times(values)
        units = None
    else:
        shown = [plain(v) for v in values.tolist()] if values.dtype.kind in "iufb" else [str(v) for v in values]
    info = AxisInfo(name=dim, role=role, units=units, count=int(values.size),
                    range=[shown[0], shown[-1]] if shown else [])
    if role in ("x", "y") and values.size > 1:
        info.resolution = float(abs(values[1] - values[0]))
    if role == "z":
        info.units, info.positive = ax.z_units, ax.z_positive or "up"
    if role == "t":
        info.calendar = ax.calendar
    if len(shown) <= SHOWN_VALUES and role not in ("x", "y"):
        info.values = shown
    return info


def _processes(env: Env, c: Collection) -> list[str]:
    jobs = env.app.services.get("jobs")
    if jobs is None:
        return []
    if c.ds is not None:  # a process may know better (xclim: the collection has the variables it needs)
        return [pid for pid, p in jobs.processes.items()
                if "collection" in p.inputs and getattr(p, "accepts", lambda _: True)(c)]
    if c.features.geometry_type() not in (None, "Polygon", "MultiPolygon"):
        return []  # the processes that take a features collection take polygons (zonal statistics)
    return [pid for pid, p in jobs.processes.items() if "features" in p.inputs]


def describe_collection(env: Env, cid: str) -> CollectionDescription:
    """Axes (units, ranges, calendar), variables (units, CF standard names), CRS, the questions the
    collection answers and the processes that take it. 404 for unknown and private collections."""
    c = env.app.registry.get(cid)
    cc = c.config
    href = f"{env.base}/collections/{c.id}"
    links = {"collection": href}
    common = dict(id=c.id, title=c.title, description=cc.description, attribution=cc.attribution,
                  license=cc.license, bbox_crs84=_bbox(c), processes=_processes(env, c))
    if c.ds is None:
        links["items"] = f"{href}/items"
        props = {k: str(v.get("type", "string")) for k, v in c.features.queryables().items()}
        return CollectionDescription(kind="features", properties=props, features=len(c.features),
                                     query_types=["features_query", "items"], links=links, **common)
    c = edr_view(env, cid)
    ax = c.axes
    axes = [_axis(c, ax.x, "x"), _axis(c, ax.y, "y")]
    if ax.z is not None:
        axes.append(_axis(c, ax.z, "z"))
    if ax.t is not None:
        axes.append(_axis(c, ax.t, "t"))
    axes += [_axis(c, d, "other") for d in ax.others if d in c.ds.dims]
    variables = []
    for name in c.variables:
        info = c.variable_info(name)
        variables.append(VariableInfo(name=name, units=info["units"], standard_name=info["standard_name"],
                                      long_name=str(info["long_name"]), dims=info["dims"], dtype=info["dtype"]))
    links.update(edr=href, coverage=f"{href}/coverage", zarr=f"{href}/zarr", map=f"{href}/map")
    grid = "curvilinear" if ax.curvilinear is not None else "regular lon/lat" if ax.lonlat else "rotated/projected"
    queries = list(data_queries(c, href))
    return CollectionDescription(kind="coverage", crs=crs_uri(ax.crs), crs_name=crs_label(ax.crs), grid=grid,
                                 calendar=ax.calendar if ax.t else None, axes=axes, variables=variables,
                                 query_types=DATA_TOOLS + [f"edr:{q}" for q in queries] + ["coverage", "zarr", "map"],
                                 links=links, **common)
