"""JSON documents of OGC API - Tiles: tile matrix set lists, tileset lists and tileset metadata.

Shapes follow OGC API - Tiles 1.0 (tileMatrixSets list, /req/tilesets-list, /req/tileset) and OGC
TMS 2.0 (TileSetMetadata JSON: `dataType`, `crs`, `tileMatrixSetURI`, `tileMatrixSetLimits`, links with
`self`, `http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme` and templated `item` links), which is what
GDAL's OGCAPI driver, OpenLayers' OGCMapTile and QGIS read.
"""

from __future__ import annotations

from ..context import link
from ..registry import Collection
from . import matrices
from .params import DATA_FORMATS, IMAGE_FORMATS
from .produce import extent84

REL = "http://www.opengis.net/def/rel/ogc/1.0/"
TEMPLATE = "{tileMatrix}/{tileRow}/{tileCol}"


def tms_list(base: str) -> dict:
    sets = []
    for tid in matrices.OFFERED:
        t = matrices.get(tid)
        sets.append({"id": tid, "title": t.title, "uri": str(t.uri), "crs": matrices.crs_uri(tid),
                     "links": [link(f"{base}/tileMatrixSets/{tid}", "self", "application/json", f"{tid} definition"),
                               link(f"{base}/tileMatrixSets/{tid}", f"{REL}tiling-scheme", "application/json",
                                    f"{tid} definition")]})
    return {"tileMatrixSets": sets, "links": [link(f"{base}/tileMatrixSets", "self", "application/json",
                                                   "tile matrix sets")]}


def tms_document(base: str, tms_id: str) -> dict:
    doc = dict(matrices.document(tms_id))
    doc["links"] = [link(f"{base}/tileMatrixSets/{tms_id}", "self", "application/json", "this tile matrix set")]
    return doc


def _root(base: str, c: Collection, kind: str, style: str | None) -> str:
    """`.../collections/{id}[/styles/{styleId}]/{map|coverage}/tiles`"""
    styled = f"/styles/{style}" if style else ""
    return f"{base}/collections/{c.id}{styled}/{kind}/tiles"


def data_type(kind: str) -> str:
    return "map" if kind == "map" else "coverage"


def _grid_shape(c: Collection) -> tuple[int, int]:
    ax = c.axes
    if ax.curvilinear is not None:
        return c.ds.sizes[ax.y], c.ds.sizes[ax.x]
    return len(ax.y_values), len(ax.x_values)


def _summary(base: str, c: Collection, kind: str, tms_id: str, style: str | None) -> dict:
    href = f"{_root(base, c, kind, style)}/{tms_id}"
    return {
        "title": f"{c.title} ({kind} tiles, {tms_id})",
        "dataType": data_type(kind),
        "crs": matrices.crs_uri(tms_id),
        "tileMatrixSetURI": str(matrices.get(tms_id).uri),
        "links": [link(href, "self", "application/json", f"{tms_id} tileset metadata"),
                  link(f"{base}/tileMatrixSets/{tms_id}", f"{REL}tiling-scheme", "application/json",
                       f"{tms_id} definition")],
    }


def tilesets(base: str, c: Collection, kind: str, style: str | None = None) -> dict:
    """The tilesets list of a collection (one per offered tile matrix set)."""
    root = _root(base, c, kind, style)
    return {"tilesets": [_summary(base, c, kind, tid, style) for tid in matrices.OFFERED],
            "links": [link(root, "self", "application/json", f"{kind} tilesets of {c.id}")]}


def tileset(base: str, c: Collection, kind: str, tms_id: str, style: str | None = None) -> dict:
    """Tileset metadata: limits from the data extent, templated tile links per format, the axes' values."""
    matrices.get(tms_id)
    extent = extent84(c)
    zmax = matrices.max_zoom(tms_id, extent, _grid_shape(c))
    doc = _summary(base, c, kind, tms_id, style)
    href = f"{_root(base, c, kind, style)}/{tms_id}"
    formats = IMAGE_FORMATS if kind == "map" else DATA_FORMATS
    for key, (media, _) in formats.items():
        doc["links"].append(link(f"{href}/{TEMPLATE}?f={key}", "item", media, f"{key} tiles", templated=True))
    doc["links"].append(link(f"{base}/collections/{c.id}", "collection", "application/json", "the collection"))
    doc["tileMatrixSetLimits"] = matrices.limits(tms_id, extent, zmax)
    w, s, e, n = extent
    doc["boundingBox"] = {"lowerLeft": [w, s], "upperRight": [e, n], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
    doc["minTileMatrix"], doc["maxTileMatrix"] = "0", str(zmax)
    doc["layers"] = [{"id": v, "dataType": data_type(kind), "title": c.variable_info(v)["long_name"]}
                     for v in c.variables]
    return doc
