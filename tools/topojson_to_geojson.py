"""Convert one object of a TopoJSON file (e.g. world-atlas's Natural Earth 110m `countries`) to a
GeoJSON FeatureCollection, as the TopoJSON specification (v1.0, sections 2.1.2-2.2) defines it:
quantized, delta-encoded arcs; a negative arc index ~i is arc i reversed; consecutive arcs of a ring
share their end/start point. Used once by tools/vendor_assets.sh for datasets/ne_110m_countries.geojson.

usage: python tools/topojson_to_geojson.py IN.json OBJECT OUT.geojson
"""

from __future__ import annotations

import json
import sys


def decode_arcs(topo: dict) -> list[list[list[float]]]:
    """Absolute lon/lat positions of every arc (delta-decoded and de-quantized when `transform` is set)."""
    t = topo.get("transform")
    out = []
    for arc in topo["arcs"]:
        if t is None:
            out.append([list(map(float, p[:2])) for p in arc])
            continue
        (sx, sy), (tx, ty) = t["scale"], t["translate"]
        x = y = 0
        pts = []
        for p in arc:
            x += p[0]
            y += p[1]
            pts.append([round(x * sx + tx, 6), round(y * sy + ty, 6)])
        out.append(pts)
    return out


def ring(indices: list[int], arcs: list) -> list[list[float]]:
    pts: list[list[float]] = []
    for i in indices:
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.extend(a if not pts else a[1:])
    return pts


def geometry(g: dict, arcs: list) -> dict | None:
    kind = g.get("type")
    if kind == "Polygon":
        return {"type": kind, "coordinates": [ring(r, arcs) for r in g["arcs"]]}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [[ring(r, arcs) for r in poly] for poly in g["arcs"]]}
    if kind == "LineString":
        return {"type": kind, "coordinates": ring(g["arcs"], arcs)}
    if kind == "MultiLineString":
        return {"type": kind, "coordinates": [ring(r, arcs) for r in g["arcs"]]}
    return None


def convert(topo: dict, name: str) -> dict:
    arcs = decode_arcs(topo)
    features = []
    for n, g in enumerate(topo["objects"][name]["geometries"]):
        geom = geometry(g, arcs)
        if geom is None:
            continue
        props = dict(g.get("properties") or {})
        fid = g.get("id")
        if fid is not None:
            props["iso_n3"] = fid
        features.append({"type": "Feature", "id": n + 1, "properties": props, "geometry": geom})
    return {"type": "FeatureCollection", "features": features}


if __name__ == "__main__":
    src, obj, dst = sys.argv[1:4]
    with open(src) as f:
        doc = convert(json.load(f), obj)
    with open(dst, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
