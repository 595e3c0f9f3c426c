"""The collection document shared by every standard: id, title, extent, CRS, links.

Standards add their own parts (EDR data_queries, coverage links, itemType) through
`AppContext.collection_hooks`, so this module knows none of them.
"""

from __future__ import annotations

import numpy as np

from ..axes import CRS84, CRS84_URI, crs_uri
from ..context import AppContext, link
from ..registry import Collection
from ..sources.times import decoding_note


GREGORIAN_TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"


def extent(c: Collection) -> dict:
    if c.ds is None:
        return {"spatial": {"bbox": [list(c.features.bbox)], "crs": CRS84_URI}, **c.features.temporal_extent()}
    ax = c.axes
    out = {"spatial": {"bbox": [list(ax.crs84_bbox())], "crs": CRS84_URI}}
    if not ax.crs.equals(CRS84):
        out["spatial"]["native"] = {"bbox": list(ax.native_bbox()), "crs": crs_uri(ax.crs)}
    iv = ax.time_interval()
    if iv:
        out["temporal"] = {
            "interval": [iv],
            "values": _time_values(ax),
            # the only trs the Features 1.0.1 and EDR 1.1 extent schemas allow: the values are written as
            # ISO 8601 strings; `calendar` (and the description) name a non-Gregorian CF calendar
            "trs": GREGORIAN_TRS,
            "calendar": ax.calendar,
        }
        if ax.calendar not in ("standard", "gregorian", "proleptic_gregorian"):
            out["temporal"]["description"] = (f"dates of the CF {ax.calendar} calendar written as ISO 8601 strings "
                                              f"(e.g. {ax.calendar} days that Gregorian lacks are valid here)")
        note = decoding_note(c.ds[ax.t])
        if note:  # e.g. "months since" on the standard calendar, decoded as calendar months
            out["temporal"]["description"] = " ".join(filter(None, [out["temporal"].get("description"), note]))
    if ax.z is not None:
        levels = [v.item() if isinstance(v, np.generic) else v for v in ax.z_values]
        out["vertical"] = {
            "interval": [[str(min(levels)), str(max(levels))]],
            "values": [str(v) for v in levels],
            "vrs": f"{ax.z} ({ax.z_units or 'unknown units'}, positive {ax.z_positive or 'up'})",
            "name": ax.z,
            "units": ax.z_units,
        }
        if ax.vertical is not None:  # model levels: say which CF parametric coordinate and its formula
            v = ax.vertical
            out["vertical"]["vrs"] = v.describe(ax.z)
            out["vertical"]["standard_name"] = v.standard_name
            out["vertical"]["formula_terms"] = v.formula_terms
    return out


def _time_values(ax) -> list[str]:
    from ..axes import iso_times

    return iso_times(ax.t_values)


def collection_doc(ctx: AppContext, c: Collection, base: str) -> dict:
    cc = c.config
    href = f"{base}/collections/{c.id}"
    doc = {
        "id": c.id,
        "title": c.title,
        "description": cc.description or c.title,
        "keywords": cc.keywords,
        "links": [
            link(f"{href}?f=json", "self", "application/json", "this document as JSON"),
            link(f"{href}?f=html", "alternate", "text/html", "this document as HTML"),
            link(f"{base}/collections?f=json", "collection", "application/json", "all collections"),
        ],
        "extent": extent(c),
    }
    if cc.license:
        doc["license"] = cc.license
        doc["links"].append(link(cc.license, "license", "text/html", "licence"))
    if cc.attribution:
        doc["attribution"] = cc.attribution
    if c.ds is not None:
        native = crs_uri(c.axes.crs)
        doc["layerDataType"] = "Coverage"  # GDAL's OAPIF driver skips such collections when listing vector layers
        doc["crs"] = list(dict.fromkeys([CRS84_URI, native, "http://www.opengis.net/def/crs/EPSG/0/4326"]))
        doc["storageCrs"] = native
    for hook in ctx.collection_hooks:
        hook(c, base, doc)
    return doc
