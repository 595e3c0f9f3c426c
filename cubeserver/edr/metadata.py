"""EDR metadata added to collection documents: data_queries, parameter_names, output formats, links."""

from __future__ import annotations

import numpy as np
from pyproj import CRS

from ..axes import CRS84, CRS84_URI, crs_uri
from ..context import link
from ..encode.covjson import MEDIA_TYPE as COVJSON, parameter
from ..registry import Collection
from . import instances
from .output import FORMATS, NAMES
from .params import EPSG4326_URI, UNITS_M, height_units

QUERY_TITLES = {
    "position": "Position: the nearest grid cell to a POINT (or each point of a MULTIPOINT)",
    "area": "Area: cells whose centres fall inside a POLYGON",
    "cube": "Cube: cells inside a bbox, optionally z levels",
    "radius": "Radius: cells within a distance of a POINT",
    "trajectory": "Trajectory: cells along a LINESTRING (M = time, Z = height per vertex)",
    "corridor": "Corridor: cells within a width around a LINESTRING",
    "locations": "Locations: named places",
}
ALL_FORMATS = ["CoverageJSON", "NetCDF", "NetCDF4", "GeoJSON", "CSV"]


def _crs_details(c: Collection) -> list[dict]:
    """CRS ids with their WKT, built once per collection (WKT generation is not free)."""
    cached = c.extra.get("edr_crs_details")
    if cached is not None:
        return cached
    out = [{"crs": CRS84_URI, "wkt": CRS84.to_wkt()},
           {"crs": EPSG4326_URI, "wkt": CRS.from_epsg(4326).to_wkt()}]
    native = crs_uri(c.axes.crs)
    if native not in (CRS84_URI, EPSG4326_URI):
        out.append({"crs": native, "wkt": c.axes.crs.to_wkt()})
    c.extra["edr_crs_details"] = out
    return out


def data_queries(c: Collection, href: str) -> dict:
    """One entry per query type with its link and variables (formats, CRSs, units)."""
    kinds = ["position", "area", "cube", "radius", "trajectory", "corridor"]
    if c.config.locations:
        kinds.append("locations")
    crs_details = _crs_details(c)
    out = {}
    for q in kinds:
        formats = [NAMES[f] for f in FORMATS[q]]
        variables = {
            "title": QUERY_TITLES[q].split(":")[0],
            "description": QUERY_TITLES[q],
            "query_type": q,
            "output_formats": formats,
            "default_output_format": "CoverageJSON",
            "crs_details": crs_details,
        }
        if q == "radius":
            variables["within_units"] = list(UNITS_M)
        if q == "corridor":
            variables["width_units"] = list(UNITS_M)
            variables["height_units"] = height_units(c)
        if q == "cube":  # the units of bbox/z heights: the z axis units, none without a vertical axis
            variables["height_units"] = [c.axes.z_units or "1"] if c.axes.z is not None else []
        kind = "application/geo+json" if q == "locations" else COVJSON  # the list of places; each place: CovJSON
        out[q] = {"link": link(f"{href}/{q}", "data", kind, QUERY_TITLES[q].split(":")[0] + " query",
                               templated=False, variables=variables)}
    if instances.has_instances(c):
        out["instances"] = {"link": link(f"{href}/instances", "data", "application/json", "Instances (model runs)",
                                         variables={"title": "Instances", "query_type": "instances"})}
    return out


def parameter_names(c: Collection) -> dict:
    """EDR Parameters from CF attributes: unit with symbol, observedProperty from standard_name."""
    out = {}
    for name in c.variables:
        var = c.ds[name]
        cov = parameter(var)
        p = {
            "type": "Parameter",
            "id": name,
            "label": str(var.attrs.get("long_name") or name),
            "description": str(var.attrs.get("long_name") or var.attrs.get("description") or name),
            "observedProperty": {"id": cov["observedProperty"]["id"], "label": cov["observedProperty"]["label"]["en"]},
            "data-type": "integer" if var.dtype.kind in "iub" else "float",
        }
        units = var.attrs.get("units")
        if units:
            p["unit"] = {"label": str(units), "symbol": str(units)}
        out[name] = p
    return out


def custom_extent(c: Collection) -> list[dict]:
    """EDR `custom` extent entries for extra dimensions (ERA-Interim's `month`), selectable by name."""
    out = []
    for dim in c.axes.others:
        if dim not in c.ds.coords or c.ds[dim].dtype.kind not in "iuf":
            continue
        vals = [v.item() if isinstance(v, np.generic) else v for v in c.ds[dim].values]
        out.append({"id": dim, "interval": [[min(vals), max(vals)]], "values": vals,
                    "reference": c.ds[dim].attrs.get("long_name", dim),
                    "description": f"select with the query parameter {dim}= (value, list, or min/max)"})
    return out


def add_edr(c: Collection, href: str, doc: dict) -> None:
    """Fill an EDR collection/instance document in place."""
    doc["data_queries"] = data_queries(c, href)
    doc["parameter_names"] = parameter_names(c)
    doc["output_formats"] = ALL_FORMATS
    custom = custom_extent(c)
    if custom and "extent" in doc:
        doc["extent"]["custom"] = custom
    for q, entry in doc["data_queries"].items():
        lk = dict(entry["link"])
        lk.pop("variables", None)
        lk.pop("templated", None)
        doc.setdefault("links", []).append(lk)


def add_items(href: str, doc: dict) -> None:
    """EDR parts of a Features-only collection (places, lakes): the `items` data query
    (/req/edr/rc-items-variables), no gridded parameters and the items formats, so the collection
    satisfies edr-1.1 collection.yaml (data_queries, parameter_names, output_formats are required)."""
    variables = {"title": "Items", "description": "Items: the features of this collection (OGC API - Features)",
                 "query_type": "items", "output_formats": ["GeoJSON", "HTML"], "default_output_format": "GeoJSON"}
    doc["data_queries"] = {"items": {"link": link(f"{href}/items", "data", "application/geo+json", "Items query",
                                                  variables=variables)}}
    doc["parameter_names"] = {}
    doc["output_formats"] = ["GeoJSON", "HTML"]
    doc.setdefault("crs", [CRS84_URI])


def collection_hook(c: Collection, base: str, doc: dict) -> None:
    """`ctx.collection_hooks` entry: EDR data queries for gridded collections, `items` for Features ones."""
    if c.ds is None:
        add_items(f"{base}/collections/{c.id}", doc)
        return
    add_edr(c, f"{base}/collections/{c.id}", doc)


def instance_doc(c: Collection, inst: Collection, iid: str, base: str) -> dict:
    """An instance document: the run's extent, queries and parameters under .../instances/{iid}."""
    from ..common.collections import extent

    href = f"{base}/collections/{c.id}/instances/{iid}"
    doc = {
        "id": iid,
        "title": f"{c.title}, run {iid}",
        "description": f"{c.title}: the forecast issued at {iid}",
        "links": [link(href, "self", "application/json", "this instance"),
                  link(f"{base}/collections/{c.id}", "collection", "application/json", c.title)],
        "extent": extent(inst),
        "crs": list(dict.fromkeys([CRS84_URI, crs_uri(inst.axes.crs), EPSG4326_URI])),
    }
    add_edr(inst, href, doc)
    doc["data_queries"].pop("instances", None)
    return doc
