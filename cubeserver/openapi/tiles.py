"""Answers of the OGC API - Tiles operations (cubeserver.tiles) for the OpenAPI document.

Tile indices outside the tile matrix set are 404 (OGC API - Tiles /req/core/tc-error), as are
unknown tile matrix sets and styles; map tiles are PNG/JPEG/WebP, coverage tiles GeoTIFF/NetCDF,
both cacheable (304 on a matching If-None-Match).
"""

from __future__ import annotations

from ..tiles.params import DATA_FORMATS, IMAGE_FORMATS
from .schemas import ref

BINARY = ref("Binary")
JSON_DOC = {"application/json": {"schema": {"type": "object"}}}


def _keys(table: dict) -> list[str]:
    return list(dict.fromkeys(a for key, (_, aliases) in table.items() for a in (key, *aliases)))


def operations(Op) -> dict:
    """{(method, path): Op} of the Tiles routes; `Op` is operations.Op (passed in to avoid an import cycle)."""
    out = {
        ("get", "/tileMatrixSets"): Op({200: JSON_DOC}, (400, 406, 500), ["json"]),
        ("get", "/tileMatrixSets/{tileMatrixSetId}"): Op({200: JSON_DOC}, (400, 404, 406, 500), ["json"]),
    }
    images = {media: {"schema": BINARY} for media, _ in IMAGE_FORMATS.values()}
    data = {media: {"schema": BINARY} for media, _ in DATA_FORMATS.values()}
    roots = [("/collections/{collectionId}/map/tiles", images, IMAGE_FORMATS),
             ("/collections/{collectionId}/styles/{styleId}/map/tiles", images, IMAGE_FORMATS),
             ("/collections/{collectionId}/coverage/tiles", data, DATA_FORMATS)]
    for root, content, table in roots:
        out[("get", root)] = Op({200: JSON_DOC}, (400, 404, 406, 500), ["json"])
        out[("get", root + "/{tileMatrixSetId}")] = Op({200: JSON_DOC}, (400, 404, 406, 500), ["json"])
        out[("get", root + "/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}")] = Op(
            {200: content}, (400, 404, 500), _keys(table),
            notes={404: "no such collection, tile matrix set or style, or a tile index outside the tile matrix"})
    return out
