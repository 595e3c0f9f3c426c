"""OGC API - Coverages: every gridded collection as a coverage (subset, scaling, CRS; four formats).

`install` mounts the router, declares the conformance classes and adds the coverage
links (one per format, plus domain set, range type, schema and a PNG quicklook) to
each gridded collection's document, which is what OWSLib, GDAL and QGIS look for.
"""

from __future__ import annotations

from ..context import link
from ..encode.geotiff import holds_crs
from ..negotiate import media_type

CONF = "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/"
# the current draft's URIs (standard/clause_2_conformance.adoc, https) for the classes this server meets;
# its scaling (`resolution`, `width`/`height`) and field-selection (`exclude-properties`) classes are not
# declared: this server implements the earlier `scale-*` and `properties` parameters
DRAFT = "https://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/"
CONFORMANCE = [CONF + c for c in (
    "core", "subsetting", "bbox", "datetime", "fieldselection", "scaling", "crs",
    "geotiff", "netcdf", "coveragejson", "png", "oas30",
)] + [DRAFT + c for c in (
    "core", "subsetting-spatial", "subsetting-temporal", "subsetting-general", "geotiff", "netcdf", "coveragejson", "png",
)]
REL = "http://www.opengis.net/def/rel/ogc/1.0/"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"

# (format key, title) in link order: GDAL takes the first GeoTIFF coverage link
_LINKS = [("geotiff", "GeoTIFF"), ("netcdf", "NetCDF"), ("covjson", "CoverageJSON"), ("png", "PNG quicklook")]


def collection_hook(c, base: str, doc: dict) -> None:
    if c.ds is None:
        return
    href = f"{base}/collections/{c.id}/coverage"
    links = [link(f"{href}?f={key}", f"{REL}coverage", media_type(key), f"coverage as {title}") for key, title in _LINKS]
    # A GeoTIFF that is not the native grid (a rotated pole reprojected to lon/lat, a curvilinear grid
    # regridded) is offered as an alternate, not as the coverage: GDAL's OGCAPI driver reads the coverage
    # link with native-axis subsets and would place the lon/lat pixels on the native grid.
    if c.axes.curvilinear is not None:
        links[0] = link(f"{href}?f=geotiff", "alternate", media_type("geotiff"),
                        "coverage as GeoTIFF (nearest-neighbour regrid of the curvilinear cells to lon/lat)")
    elif not holds_crs(c.axes.crs):  # e.g. a rotated pole: GeoTIFF keys cannot say it
        links[0] = link(f"{href}?f=geotiff&crs={EPSG4326}", "alternate", media_type("geotiff"),
                        "coverage as GeoTIFF (reprojected to EPSG:4326: GeoTIFF cannot hold the native CRS)")
    links += [
        link(f"{href}/domainset?f=json", f"{REL}coverage-domainset", "application/json", "domain set (CIS JSON)"),
        link(f"{href}/rangetype?f=json", f"{REL}coverage-rangetype", "application/json", "range type (CIS JSON)"),
        link(f"{base}/collections/{c.id}/schema", f"{REL}schema", "application/schema+json", "fields (JSON Schema)"),
    ]
    doc["links"].extend(links)
    doc["quicklook"] = f"{href}?f=png"


def install(app, ctx) -> None:
    from .routes import build_router

    app.include_router(build_router(ctx))
    ctx.conformance.extend(c for c in CONFORMANCE if c not in ctx.conformance)
    ctx.collection_hooks.append(collection_hook)
