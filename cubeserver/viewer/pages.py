"""HTML pages of the viewer: `/docs` (vendored Swagger UI), `/collections/{id}/viewer`, the HTML view
of EDR answers and the viewer link in collection documents.

Pages carry their data as `<script type="application/json">` blocks (not executed, so the CSP can
forbid inline scripts) read by the package's own scripts under /static/viewer/.
"""

from __future__ import annotations

from urllib.parse import quote

import orjson
from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from ..context import AppContext, link
from ..errors import BadRequest
from .edr_html import edr_page


def script_json(value) -> str:
    """JSON safe inside a <script> block: '<' cannot close it early."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS).decode().replace("<", "\\u003c")


def unit_symbol(parameter: dict) -> str:
    """The unit of an EDR parameter as text (its `symbol`, a string or {value, type}, else its label)."""
    unit = parameter.get("unit") or {}
    symbol = unit.get("symbol")
    if isinstance(symbol, dict):
        symbol = symbol.get("value")
    label = unit.get("label")
    if isinstance(label, dict):
        label = next(iter(label.values()), "")
    return str(symbol or label or "")


def viewer_config(ctx: AppContext, c, base: str) -> dict:
    """What the viewer needs to build its pickers: the parameters with units, the time steps, the
    levels and the extra dimensions (as the collection document lists them), the CRS84 bbox and URLs."""
    from ..common.collections import collection_doc

    doc = collection_doc(ctx, c, base)
    ex = doc.get("extent", {})
    params = [{"id": name, "label": p.get("label") or p.get("description") or name, "unit": unit_symbol(p)}
              for name, p in (doc.get("parameter_names") or {}).items()]
    vertical = ex.get("vertical")
    href = f"{base}/collections/{c.id}"
    return {
        "id": c.id,
        "title": c.title,
        "attribution": c.config.attribution,
        "bbox": ex["spatial"]["bbox"][0],
        "parameters": params,
        "times": (ex.get("temporal") or {}).get("values") or [],
        "calendar": (ex.get("temporal") or {}).get("calendar"),
        "vertical": None if not vertical else {"name": vertical["name"], "values": vertical["values"],
                                               "units": vertical.get("units") or ""},
        "custom": [{"id": d["id"], "values": d["values"]} for d in ex.get("custom") or []],
        "urls": {
            "collection": href,
            "tiles": f"{href}/map/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}",
            "legend": f"{href}/styles/default/legend",
            "position": f"{href}/position",
            "basemap": base + basemap_path(ctx) if basemap_path(ctx) else None,
        },
    }


BASEMAP = "countries"  # the bundled Natural Earth countries (default_config.yaml); absent: no base layer


def basemap_path(ctx: AppContext) -> str | None:
    """The base layer's items URL path (GeoJSON), or None when the countries collection is not served."""
    return f"/collections/{BASEMAP}/items?f=json&limit=1000" if BASEMAP in ctx.registry else None


def install_pages(app, ctx: AppContext) -> None:
    jinja = ctx.jinja
    jinja.globals["basemap_url"] = basemap_path(ctx)

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        base = ctx.base_url(request)
        page = jinja.get_template("docs.html").render(base=base, title=f"{ctx.config.title} - API",
                                                      openapi_url=f"{base}/openapi.json")
        return HTMLResponse(page)

    @app.get("/collections/{collectionId}/viewer", summary="Map viewer of a gridded collection (HTML)",
             include_in_schema=False, response_class=HTMLResponse,
             responses={200: {"content": {"text/html": {}}, "description": "the viewer page"}})
    def viewer(request: Request, collectionId: str,
               f: str | None = Query(None, description="html (the only format of this page)")):
        if f is not None and f.strip().lower() not in ("html", "text/html"):
            raise BadRequest(f"unsupported format f={f!r}; allowed: html", parameter="f")
        for name in request.query_params.keys():
            if name != "f":
                raise BadRequest(f"unknown query parameter {name!r} for the viewer; accepted: f", parameter=name)
        c = ctx.registry.gridded(collectionId)
        base = ctx.base_url(request)
        cfg = viewer_config(ctx, c, base)
        return ctx.html("viewer.html", request, {"config": script_json(cfg), "collection": cfg},
                        f"{c.title}: map", json_url=f"{base}/collections/{quote(c.id, safe='')}?f=json")

    def collection_hook(c, base: str, doc: dict) -> None:
        if c.ds is not None:
            doc["links"].append(link(f"{base}/collections/{c.id}/viewer", "preview", "text/html",
                                     "map viewer (time, level, legend, click for a time series)"))

    ctx.collection_hooks.append(collection_hook)
    ctx.services["edr_html"] = lambda request, c, qtype, params: edr_page(ctx, request, c, qtype, params)
