"""The coverage's own description: CIS 1.1 domain set, range type, and the JSON Schema of its fields.

Written for generic clients, GDAL's OGC API driver first: X and Y come first in
`axisLabels`, their bounds are cell edges with a positive resolution (GDAL derives
the raster size as (upper - lower) / resolution), and each field's `definition` is
an `ogcType:` data type GDAL maps to a band type.
"""

from __future__ import annotations

import numpy as np

from ..axes import iso_times
from ..encode.covjson import standard_name_uri
from ..registry import Collection
from ..select.scale import regular_step
from .labels import coverage_axes

OGC_CRS = "http://www.opengis.net/def/crs/OGC/0/"
NIL_MISSING = "http://www.opengis.net/def/nil/OGC/0/missing"

_OGC_TYPES = {
    "uint8": "unsignedByte", "int8": "signedByte", "uint16": "unsignedShort", "int16": "signedShort",
    "uint32": "unsignedInt", "int32": "signedInt", "uint64": "unsignedLong", "int64": "signedLong",
    "float32": "float32", "float64": "double", "bool": "unsignedByte",
}
_JSON_TYPES = {"f": "number", "i": "integer", "u": "integer", "b": "integer"}


def srs_name(c: Collection) -> str:
    """The horizontal CRS, compounded with OGC index/time CRSs when there are more axes."""
    from ..axes import crs_uri

    horizontal = crs_uri(c.axes.crs)
    if not horizontal.startswith("http"):
        return horizontal  # no URI (e.g. a rotated pole): the WKT, which a compound URI cannot hold
    extra = []
    for a in coverage_axes(c.axes)[2:]:
        extra.append(f"{OGC_CRS}AnsiDate" if a.kind == "t" else f"{OGC_CRS}Index1D")
    if not extra:
        return horizontal
    parts = [horizontal, *extra]
    return "http://www.opengis.net/def/crs-compound?" + "&".join(f"{i}={p}" for i, p in enumerate(parts, 1))


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _axis(c: Collection, a) -> dict:
    values = np.asarray(c.ds[a.dim].values)
    ax = c.axes
    if a.kind in ("x", "y"):
        res = regular_step(values)
        unit = "deg" if ax.crs.is_geographic else (ax.crs.axis_info[0].unit_name if ax.crs.axis_info else "m")
        if res is not None or values.size == 1:
            r = abs(res) if res else (ax.resolution(a.dim) or 1.0)
            return {"type": "RegularAxisType", "axisLabel": a.label, "lowerBound": float(values.min()) - r / 2,
                    "upperBound": float(values.max()) + r / 2, "uomLabel": unit, "resolution": r}
        return {"type": "IrregularAxisType", "axisLabel": a.label, "uomLabel": unit,
                "coordinate": [float(v) for v in values]}
    if a.kind == "t":
        iso = iso_times(values)
        return {"type": "IrregularAxisType", "axisLabel": a.label, "uomLabel": "ISO 8601", "coordinate": iso,
                "lowerBound": iso[0] if iso else None, "upperBound": iso[-1] if iso else None,
                "calendar": ax.calendar}
    unit = str(c.ds[a.dim].attrs.get("units", "")) or None
    coords = [_plain(v) for v in values]
    out = {"type": "IrregularAxisType", "axisLabel": a.label, "coordinate": coords}
    if values.dtype.kind in "fiu" and values.size:
        out.update(lowerBound=_plain(values.min()), upperBound=_plain(values.max()))
    if unit:
        out["uomLabel"] = unit
    if a.kind == "z" and ax.vertical is not None:  # model levels (CF Appendix D): which kind, which formula
        out["description"] = ax.vertical.describe(a.dim)
        if standard_name_uri(ax.vertical.standard_name):
            out["definition"] = standard_name_uri(ax.vertical.standard_name)
    return out


def domainset(c: Collection) -> dict:
    """CIS 1.1 JSON DomainSet: a GeneralGrid with one axis per label, plus grid limits."""
    if c.axes.curvilinear is not None:  # X/Y are grid indices, described as such
        from .curvilinear import domainset as curvilinear_domainset

        return curvilinear_domainset(c)
    axes = coverage_axes(c.axes)
    index_labels = [chr(ord("i") + k) for k in range(len(axes))]
    return {
        "type": "DomainSetType",
        "generalGrid": {
            "type": "GeneralGridType",
            "srsName": srs_name(c),
            "axisLabels": [a.label for a in axes],
            "axis": [_axis(c, a) for a in axes],
            "gridLimits": {
                "type": "GridLimitsType",
                "srsName": f"http://www.opengis.net/def/crs/OGC/0/Index{len(axes)}D",
                "axisLabels": index_labels,
                "axis": [{"type": "IndexAxisType", "axisLabel": lab, "lowerBound": 0, "upperBound": int(c.ds.sizes[a.dim]) - 1}
                         for lab, a in zip(index_labels, axes)],
            },
        },
    }


def served_nodata(c: Collection, name: str):
    """The nodata value clients see: NaN for floats (decoded), the fill value for integers."""
    var = c.ds[name]
    if var.dtype.kind == "f":
        return "NaN"
    fill = var.attrs.get("_FillValue", var.encoding.get("_FillValue"))
    return _plain(fill)


def field(c: Collection, name: str) -> dict:
    info = c.variable_info(name)
    dtype = info["dtype"]
    var = c.ds[name]
    out = {
        "type": "QuantityType",
        "id": name,
        "name": name,
        "definition": f"ogcType:{_OGC_TYPES.get(dtype, dtype)}",
        "label": info["long_name"],
        "description": info["long_name"],
        "dataType": dtype,
        "nodata": served_nodata(c, name),
    }
    if standard_name_uri(info["standard_name"]):
        out["observedProperty"] = standard_name_uri(info["standard_name"])
    if info["units"]:
        out["uom"] = {"type": "UnitReference", "code": str(info["units"])}
    if info["nodata"] is not None:
        out["nilValues"] = [{"reason": NIL_MISSING, "value": info["nodata"]}]
    return out


def rangetype(c: Collection) -> dict:
    """CIS 1.1 JSON DataRecord: one field per servable variable, in the order GeoTIFF bands use."""
    return {"type": "DataRecordType", "field": [field(c, n) for n in c.variables]}


def schema(c: Collection, href: str) -> dict:
    """The fields as JSON Schema (OGC API - Coverages `/schema`), with units and nodata."""
    props = {}
    for seq, name in enumerate(c.variables, 1):
        info = c.variable_info(name)
        kind = np.dtype(info["dtype"]).kind
        p = {"title": info["long_name"], "type": _JSON_TYPES.get(kind, "number"), "format": info["dtype"],
             "x-ogc-propertySeq": seq, "x-ogc-nodata": served_nodata(c, name)}
        if info["units"]:
            p["x-ogc-unit"] = str(info["units"])
        if standard_name_uri(info["standard_name"]):
            p["x-ogc-definition"] = standard_name_uri(info["standard_name"])
        props[name] = p
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": href,
        "title": c.title,
        "type": "object",
        "properties": props,
    }
