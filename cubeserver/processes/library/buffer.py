"""`buffer`: a GeoJSON geometry grown by a distance in metres.

Buffering in degrees would be meaningless, so the geometry is projected to an
azimuthal equidistant projection centred on it, buffered there and projected back:
distances are true from the centre and close to true near it.
"""

from __future__ import annotations

import shapely
from pyproj import CRS, Transformer
from shapely.geometry import mapping, shape

from ...errors import BadRequest
from ..base import Process
from ..results import Output

GEOMETRY_TYPES = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"]


def geometry_input(value, name: str):
    """A GeoJSON geometry or Feature -> valid shapely geometry, or a 400 naming the input."""
    geom = value.get("geometry") if value.get("type") == "Feature" else value
    if not isinstance(geom, dict) or geom.get("type") not in GEOMETRY_TYPES:
        raise BadRequest(f"{name}: expected a GeoJSON geometry ({', '.join(GEOMETRY_TYPES)}) or Feature", parameter=name)
    try:
        g = shape(geom)
    except Exception as e:  # noqa: BLE001 - shapely raises several kinds for malformed coordinates
        raise BadRequest(f"{name}: invalid GeoJSON geometry ({e})", parameter=name) from None
    if g.is_empty:
        raise BadRequest(f"{name}: the geometry is empty", parameter=name)
    xmin, ymin, xmax, ymax = g.bounds
    if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
        raise BadRequest(f"{name}: coordinates must be longitude/latitude (CRS84)", parameter=name)
    return g if g.is_valid else shapely.make_valid(g)


def local_projection(g) -> tuple[Transformer, Transformer]:
    c = g.centroid
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +datum=WGS84 +units=m")
    fwd = Transformer.from_crs("OGC:CRS84", aeqd, always_xy=True)
    back = Transformer.from_crs(aeqd, "OGC:CRS84", always_xy=True)
    return fwd, back


class Buffer(Process):
    id = "buffer"
    title = "Buffer a geometry"
    description = ("Grows (or, with a negative distance, shrinks) a GeoJSON geometry by a distance in metres, "
                   "computed in an azimuthal equidistant projection centred on the geometry.")
    keywords = ["geometry", "vector"]
    inputs = {
        "geometry": {"title": "Geometry", "required": True, "description": "GeoJSON geometry or Feature in CRS84",
                     "schema": {"type": "object", "required": ["type"],
                                "contentMediaType": "application/geo+json"}},
        "distance": {"title": "Distance (m)", "required": True, "description": "buffer distance in metres",
                     "schema": {"type": "number", "minimum": -1e7, "maximum": 1e7}},
        "resolution": {"title": "Segments per quarter circle", "description": "smoothness of rounded corners",
                       "schema": {"type": "integer", "minimum": 1, "maximum": 64, "default": 16}},
    }
    outputs = {"buffered": {"title": "Buffered geometry", "description": "GeoJSON geometry in CRS84",
                            "schema": {"type": "object", "contentMediaType": "application/geo+json"},
                            "formats": ["application/geo+json"]}}

    def check(self, values, ctx):
        """A 400 naming `distance` when the answer would be empty: a distance <= 0 on a geometry without
        area (points, lines: nothing to shrink), or a negative distance that erodes every polygon away."""
        g = values["geometry"] = geometry_input(values["geometry"], "geometry")
        distance = float(values["distance"])
        if distance <= 0 and g.area == 0:
            raise BadRequest(f"distance: a buffer of {distance:g} m around a {g.geom_type} is empty (points and lines "
                             "have no area to shrink); give a distance > 0 m (at most 1e7)", parameter="distance")
        if distance < 0 and buffered(g, distance, int(values.get("resolution", 16))).is_empty:
            raise BadRequest(f"distance: shrinking this {g.geom_type} by {-distance:g} m leaves nothing (it is nowhere "
                             f"wider than {-2 * distance:g} m); give a smaller negative or a positive distance",
                             parameter="distance")
        return values

    def execute(self, params, job):
        out = buffered(params["geometry"], float(params["distance"]), int(params["resolution"]))
        return {"buffered": Output(value=mapping(out), media_type="application/geo+json")}


def buffered(g, distance: float, resolution: int):
    """`g` (CRS84) grown by `distance` metres (shrunk when negative) in an azimuthal equidistant projection
    centred on it, with `resolution` segments per quarter circle; back in CRS84, cut at the antimeridian."""
    fwd, back = local_projection(g)
    local = shapely.transform(g, lambda xy: transform_xy(fwd, xy))
    grown = local.buffer(distance, quad_segs=resolution)
    return split_at_antimeridian(shapely.transform(grown, lambda xy: transform_xy(back, xy)))


def split_at_antimeridian(geom):
    """A lon/lat polygon that crosses ±180° as a MultiPolygon cut there (RFC 7946 §3.1.9).

    Coming back from the local projection, a ring that crosses the antimeridian jumps from
    +180 to -180 between two vertices; unwrapped to one side (negative longitudes + 360) it
    is a valid shape, which is then cut at 180 and its eastern part shifted back by -360.
    """
    import numpy as np
    from shapely.affinity import translate
    from shapely.geometry import box

    xs = shapely.get_coordinates(geom)[:, 0]
    if xs.size == 0 or xs.max() - xs.min() <= 180.0:
        return geom
    unwrapped = shapely.transform(geom, lambda xy: np.column_stack([np.where(xy[:, 0] < 0, xy[:, 0] + 360.0, xy[:, 0]),
                                                                    xy[:, 1]]))
    west = unwrapped.intersection(box(-180.0, -90.0, 180.0, 90.0))
    east = translate(unwrapped.intersection(box(180.0, -90.0, 540.0, 90.0)), xoff=-360.0)
    if west.is_empty or east.is_empty:
        return east if west.is_empty else west
    return shapely.union(west, east)


def transform_xy(tr: Transformer, xy):
    """Coordinates (n x 2) through a pyproj transformer, for shapely.transform."""
    import numpy as np

    x, y = tr.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])
