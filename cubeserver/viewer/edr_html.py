"""The HTML view of an EDR query answer (`f=html`): a page whose script fetches the same query as
CoverageJSON and draws it, as a chart for point-like answers (position, radius, trajectory,
corridor, locations: time series, vertical profile or values along the path) and as a map for
area and cube (the Maps endpoint's image of the query's bounding box under the query's outline).

The query is parsed and checked before the page is sent (a bad query is its 400, not a page).
"""

from __future__ import annotations

from fastapi import Request

from ..context import AppContext

MAP_KINDS = ("area", "cube")


def _bbox(qtype: str, params: dict) -> list[float] | None:
    """The CRS84 bounding box of an area (polygon `coords`) or cube (`bbox`) query; None in another CRS."""
    crs = (params.get("crs") or "").strip()
    if crs and not crs.upper().endswith(("CRS84", "OGC/1.3/CRS84")):
        return None
    try:
        if qtype == "cube":
            return [float(v) for v in params["bbox"].split(",")[:4]]
        if qtype == "area":
            from shapely import wkt

            return list(wkt.loads(params["coords"]).bounds)
    except Exception:  # noqa: BLE001 - the query itself has been parsed already; no box is no map image
        return None
    return None


def edr_page(ctx: AppContext, request: Request, c, qtype: str, params: dict):
    """The page for one EDR query of collection `c`; `params` are its (checked) query parameters."""
    from .pages import script_json, viewer_config

    base = ctx.base_url(request)
    data_url = ctx.request_url(request, f="covjson")  # the same query, as CoverageJSON
    cfg = viewer_config(ctx, c, base)
    names = [p.strip() for p in (params.get("parameter-name") or "").split(",") if p.strip()]
    shown = [p for p in cfg["parameters"] if not names or p["id"] in names]
    page = {
        "collection": {"id": c.id, "title": c.title},
        "query": qtype,
        "kind": "map" if qtype in MAP_KINDS else "chart",
        "data_url": data_url,
        "parameters": shown,
        "bbox": _bbox(qtype, params) if qtype in MAP_KINDS else None,
        "datetime": params.get("datetime"),
        "z": params.get("z"),
        "vertical": cfg["vertical"],
        "times": cfg["times"],
        "urls": {"map": f"{base}/collections/{c.id}/map", "basemap": cfg["urls"]["basemap"],
                 "collection": cfg["urls"]["collection"]},
    }
    return ctx.html("edr_answer.html", request, {"config": script_json(page), "page": page},
                    f"{c.title}: {qtype} query")
