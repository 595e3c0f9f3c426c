"""OGC API - Tiles: map tiles and coverage (data) tiles of every gridded collection, in any offered tile matrix set.

`install` mounts the routes, declares the conformance classes, links each gridded collection to its
map and coverage tilesets (`http://www.opengis.net/def/rel/ogc/1.0/tilesets-map`, `.../tilesets-coverage`,
what GDAL's OGCAPI driver and OpenLayers look for) and, with `tiles.cache_dir`, opens the disk cache.
"""

from __future__ import annotations

from ..context import link

TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
TMS = "http://www.opengis.net/spec/tms/2.0/conf/"
CONFORMANCE = [TILES + c for c in ("core", "tileset", "tilesets-list", "geodata-tilesets", "datetime",
                                   "png", "jpeg", "tiff", "netcdf", "oas30")] + \
              [TMS + c for c in ("tilematrixset", "json-tilematrixset", "tilesetmetadata", "json-tilesetmetadata")]
REL = "http://www.opengis.net/def/rel/ogc/1.0/"


def collection_hook(c, base: str, doc: dict) -> None:
    if c.ds is None:
        return
    href = f"{base}/collections/{c.id}"
    doc["links"] += [
        link(f"{href}/map/tiles", f"{REL}tilesets-map", "application/json", "map tilesets"),
        link(f"{href}/coverage/tiles", f"{REL}tilesets-coverage", "application/json", "coverage (data) tilesets"),
    ]


def install(app, ctx) -> None:
    from .routes import build_router

    cfg = ctx.config.tiles
    if cfg.cache_dir:
        from .cache import TileCache

        ctx.services["tile_cache"] = TileCache(ctx.config.resolve(cfg.cache_dir), cfg.cache_bytes)
    app.include_router(build_router(ctx))
    ctx.conformance.extend(c for c in CONFORMANCE if c not in ctx.conformance)
    ctx.collection_hooks.append(collection_hook)

    def landing_links(base: str) -> list[dict]:
        return [link(f"{base}/tileMatrixSets", f"{REL}tiling-schemes", "application/json", "tile matrix sets")]

    ctx.services.setdefault("landing_links", []).append(landing_links)
