"""WMS 1.3.0 GetCapabilities document (OGC 06-042 clause 7.2.4, capabilities_1_3_0.xsd element order).

One root layer (the CRS list, the world's extent) holds one unnamed layer per gridded collection,
which holds one named, queryable layer per variable (`collection/variable`) with its geographic and
CRS bounding boxes, its TIME / ELEVATION / extra dimensions and its styles, each with a LegendURL to
GetLegendGraphic. GetLegendGraphic is declared as an extended operation (SLD 1.1 `sld:GetLegendGraphic`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote

from ..registry import Collection
from . import layers as L

WMS = "http://www.opengis.net/wms"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SLD = "http://www.opengis.net/sld"
ET.register_namespace("", WMS)
ET.register_namespace("xlink", XLINK)
ET.register_namespace("xsi", XSI)
ET.register_namespace("sld", SLD)

MAP_FORMATS = ["image/png", "image/jpeg", "image/webp"]
INFO_FORMATS = ["application/json", "text/html", "text/plain"]
BASE_CRS = ["CRS:84", "EPSG:4326", "EPSG:3857"]
LEGEND_SIZE = (64, 256)


def _e(parent, tag: str, text=None, ns: str = WMS, **attrs) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ns}}}{tag}", {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = str(text)
    return el


def _online(parent, tag: str, href: str) -> ET.Element:
    return _e(parent, tag, **{f"{{{XLINK}}}type": "simple", f"{{{XLINK}}}href": href})


def _operation(parent, tag: str, formats: list[str], url: str, ns: str = WMS) -> None:
    op = _e(parent, tag, ns=ns)  # sld:GetLegendGraphic is a wms:OperationType: its children are WMS elements
    for f in formats:
        _e(op, "Format", f)
    dcp = _e(op, "DCPType")
    http = _e(dcp, "HTTP")
    get = _e(http, "Get")
    _online(get, "OnlineResource", url)


def native_code(c: Collection) -> str | None:
    """`AUTH:CODE` of the collection's native CRS when it has one (rotated poles have none)."""
    if c.axes.curvilinear is not None:
        return None
    auth = c.axes.crs.to_authority(min_confidence=90)
    return f"{auth[0]}:{auth[1]}" if auth else None


def _geo_box(parent, w: float, s: float, e: float, n: float) -> None:
    box = _e(parent, "EX_GeographicBoundingBox")
    for tag, v in (("westBoundLongitude", w), ("eastBoundLongitude", e), ("southBoundLatitude", s),
                   ("northBoundLatitude", n)):
        _e(box, tag, f"{v:.6f}")


def _bbox(parent, crs: str, minx, miny, maxx, maxy) -> None:
    _e(parent, "BoundingBox", CRS=crs, minx=f"{minx:.6f}", miny=f"{miny:.6f}", maxx=f"{maxx:.6f}", maxy=f"{maxy:.6f}")


def _extent(c: Collection) -> tuple[float, float, float, float]:
    w, s, e, n = (float(v) for v in c.axes.crs84_bbox())
    if w > e:  # across the antimeridian: EX_GeographicBoundingBox cannot say it
        w, e = -180.0, 180.0
    return w, s, e, n


def _layer(parent, layer: L.Layer, wms_url: str, styles: list) -> None:
    c, v = layer.collection, layer.variable
    info = c.variable_info(v)
    el = _e(parent, "Layer", queryable="1", opaque="0")
    _e(el, "Name", layer.name)
    _e(el, "Title", f"{info['long_name']} ({c.title})")
    units = f" [{info['units']}]" if info.get("units") else ""
    _e(el, "Abstract", f"{info['long_name']}{units} of {c.title}. {c.config.description or ''}".strip())
    code = native_code(c)
    if code and code not in ("EPSG:4326", "OGC:CRS84", "EPSG:3857"):
        _e(el, "CRS", code)
    w, s, e, n = _extent(c)
    _geo_box(el, w, s, e, n)
    _bbox(el, "CRS:84", w, s, e, n)
    _bbox(el, "EPSG:4326", s, w, n, e)  # lat/lon axis order (WMS 1.3.0 6.7.3.3)
    if code and code not in ("EPSG:4326", "OGC:CRS84", "EPSG:3857"):
        minx, miny, maxx, maxy = c.axes.native_bbox()
        _bbox(el, code, minx, miny, maxx, maxy)
    for d in L.dimensions(layer):
        attrs = {"name": d["name"], "units": d["units"], "default": d["default"]}
        if d.get("unitSymbol"):
            attrs["unitSymbol"] = d["unitSymbol"]
        if d.get("nearestValue"):
            attrs["nearestValue"] = d["nearestValue"]
        _e(el, "Dimension", d["values"], **attrs)
    if c.config.attribution:
        attribution = _e(el, "Attribution")
        _e(attribution, "Title", c.config.attribution)
    for st in styles:
        sid = st if isinstance(st, str) else st.id
        title = sid if isinstance(st, str) else (st.title or sid)
        style = _e(el, "Style")
        _e(style, "Name", sid)
        _e(style, "Title", title)
        width, height = LEGEND_SIZE
        legend = _e(style, "LegendURL", width=width, height=height)
        _e(legend, "Format", "image/png")
        href = (f"{wms_url}?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&FORMAT=image/png"
                f"&LAYER={quote(layer.name, safe='')}&STYLE={quote(sid, safe='')}")
        _online(legend, "OnlineResource", href)


def styles_of(layer: L.Layer) -> list:
    """The renderer's styles for the variable (`default` first); only `default` before the renderer exists."""
    try:
        from ..render import styles_for
    except ImportError:
        return ["default"]
    found = list(styles_for(layer.collection, layer.variable)) or ["default"]
    ids = [s if isinstance(s, str) else s.id for s in found]
    if "default" not in ids:
        found.insert(0, "default")
    return found


def capabilities(config, registry, wms_url: str) -> bytes:
    """The capabilities XML bytes for the collections the current identity may see."""
    root = ET.Element(f"{{{WMS}}}WMS_Capabilities", {"version": "1.3.0", "updateSequence": "0",
                      f"{{{XSI}}}schemaLocation": f"{WMS} http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd "
                                                  f"{SLD} http://schemas.opengis.net/sld/1.1.0/sld_capabilities.xsd"})
    service = _e(root, "Service")
    _e(service, "Name", "WMS")
    _e(service, "Title", config.title)
    _e(service, "Abstract", config.description)
    _online(service, "OnlineResource", wms_url)
    _e(service, "Fees", "none")
    _e(service, "AccessConstraints", "none")
    from .params import MAX_SIZE

    _e(service, "MaxWidth", MAX_SIZE)
    _e(service, "MaxHeight", MAX_SIZE)

    cap = _e(root, "Capability")
    req = _e(cap, "Request")
    url = f"{wms_url}?"
    _operation(req, "GetCapabilities", ["text/xml"], url)
    _operation(req, "GetMap", MAP_FORMATS, url)
    _operation(req, "GetFeatureInfo", INFO_FORMATS, url)
    _operation(req, "GetLegendGraphic", ["image/png", "application/json"], url, ns=SLD)
    exc = _e(cap, "Exception")
    for f in ("XML", "BLANK", "INIMAGE"):
        _e(exc, "Format", f)

    top = _e(cap, "Layer")
    _e(top, "Title", config.title)
    _e(top, "Abstract", "Every variable of every gridded collection, named collection/variable")
    for code in BASE_CRS:
        _e(top, "CRS", code)
    _geo_box(top, -180, -90, 180, 90)
    _bbox(top, "CRS:84", -180, -90, 180, 90)
    collections = {}
    for layer in L.layers(registry):
        collections.setdefault(layer.collection.id, []).append(layer)
    for cid, members in collections.items():
        c = members[0].collection
        group = _e(top, "Layer")
        _e(group, "Title", c.title)
        if c.config.description:
            _e(group, "Abstract", c.config.description)
        w, s, e, n = _extent(c)
        _geo_box(group, w, s, e, n)
        for layer in members:
            _layer(group, layer, wms_url, styles_of(layer))
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


__all__ = ["capabilities", "native_code"]
