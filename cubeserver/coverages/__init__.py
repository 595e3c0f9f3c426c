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
    _storage_crs_bbox(c, doc)
    _grid(c, doc)


GRID_COORDINATES = 1000  # irregular axes longer than this give only their cellsCount


def _axis_grid(values) -> dict:
    """One dimension's `grid` (Common Part 2 uniform multi-dimension collections): cellsCount and
    resolution when regular, else the coordinates (or only cellsCount on very long axes)."""
    import numpy as np

    v = np.asarray(values)
    out = {"cellsCount": int(v.size)}
    if v.dtype.kind in "fiu" and v.size > 1:
        steps = np.diff(v.astype("float64"))
        if np.allclose(steps, steps[0], rtol=1e-6, atol=0):
            out["resolution"] = float(abs(steps[0]))
            return out
    if v.size <= GRID_COORDINATES:
        out["coordinates"] = [x.item() if hasattr(x, "item") else x for x in v]
    return out


def _grid(c, doc: dict) -> None:
    """`extent.spatial.grid` (lon/lat grids: the bbox is in the grid's own CRS) and `extent.temporal.grid`."""
    from ..axes import iso_times

    ax, extent = c.axes, doc.get("extent") or {}
    if ax.curvilinear is None and ax.lonlat and "spatial" in extent:
        extent["spatial"]["grid"] = [_axis_grid(ax.x_values), _axis_grid(ax.y_values)]
    if ax.t is not None and "temporal" in extent:
        n = len(ax.t_values)
        extent["temporal"]["grid"] = ({"cellsCount": n, "coordinates": iso_times(ax.t_values)}
                                      if n <= GRID_COORDINATES else {"cellsCount": n})


def _storage_crs_bbox(c, doc: dict) -> None:
    """`extent.spatial.storageCrsBbox`: the native bounds, required when `storageCrs` is not CRS84
    (Coverages draft /req/core/collection-description D)."""
    from ..axes import CRS84_URI, crs_uri

    storage = doc.get("storageCrs")
    spatial = (doc.get("extent") or {}).get("spatial")
    if not storage or storage == CRS84_URI or spatial is None or c.axes.curvilinear is not None:
        return
    if storage == crs_uri(c.axes.crs):
        spatial["storageCrsBbox"] = [[float(v) for v in c.axes.native_bbox()]]


def install(app, ctx) -> None:
    from .routes import build_router

    app.include_router(build_router(ctx))
    ctx.conformance.extend(c for c in CONFORMANCE if c not in ctx.conformance)
    ctx.collection_hooks.append(collection_hook)
