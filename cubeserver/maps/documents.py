"""The styles document of a collection and the Maps links of its collection document."""

from __future__ import annotations

from ..context import link
from ..errors import NotFound
from ..render.palette import styles_for

REL = "http://www.opengis.net/def/rel/ogc/1.0/"


def style_ids(c) -> list[str]:
    """Every style id of the collection's fields (`default` first), without reading data: configured
    extra styles, and `contours` / `filled-contours` (offered for continuous fields)."""
    ids = ["default", "contours", "filled-contours"]
    for cfg in (c.config.styles or {}).values():
        ids += [s.id for s in cfg.extra]
    return list(dict.fromkeys(ids))


def check_style(c, style_id: str) -> None:
    """404 naming the styles when `style_id` is not a style of any field."""
    ids = style_ids(c)
    if style_id not in ids:
        raise NotFound(f"style {style_id!r} is not a style of collection {c.id!r}; styles: {', '.join(ids)}",
                       parameter="styleId")


def styles_document(c, base: str) -> dict:
    """`{"default": "default", "styles": [{"id", "title", "parameters": {field: {...}}, "links"}], "links"}`:
    per field its kind, colormap, range and units, and links to the styled map and its legends."""
    href = f"{base}/collections/{c.id}"
    by_id: dict[str, dict] = {}
    for var in c.variables:
        for s in styles_for(c, var):
            entry = by_id.setdefault(s.id, {"id": s.id, "title": _title(s.id), "parameters": {}, "links": [
                link(f"{href}/styles/{s.id}/map?f=png", f"{REL}map", "image/png", f"map in style {s.id}"),
            ]})
            entry["parameters"][var] = {
                "title": s.title, "kind": s.kind, "colormap": s.colormap, "range": [s.vmin, s.vmax], "units": s.units,
                **({"levels": list(s.levels)} if s.levels else {}),
                "links": [
                    link(f"{href}/styles/{s.id}/map?properties={var}&f=png", f"{REL}map", "image/png", f"map of {var}"),
                    link(f"{href}/styles/{s.id}/legend?properties={var}&f=png", "legend", "image/png", f"legend of {var}"),
                    link(f"{href}/styles/{s.id}/legend?properties={var}&f=json", "legend", "application/json",
                         f"legend of {var} (colour stops)"),
                ],
            }
    return {"default": "default", "styles": list(by_id.values()),
            "links": [link(f"{href}/styles?f=json", "self", "application/json", "styles of this collection"),
                      link(f"{href}?f=json", "collection", "application/json", "the collection")]}


def _title(sid: str) -> str:
    return {"default": "Default: colour ramp (or categories)", "contours": "Contour lines",
            "filled-contours": "Filled contours"}.get(sid, sid)


def collection_hook(c, base: str, doc: dict) -> None:
    """Maps links on a gridded collection's document (OGC API Maps collection-map, styled-map)."""
    if c.ds is None:
        return
    href = f"{base}/collections/{c.id}"
    doc["links"].extend([
        link(f"{href}/map?f=png", f"{REL}map", "image/png", "map (PNG)"),
        link(f"{href}/map?f=jpeg", f"{REL}map", "image/jpeg", "map (JPEG)"),
        link(f"{href}/map?f=webp", f"{REL}map", "image/webp", "map (WebP)"),
        link(f"{href}/styles?f=json", f"{REL}styles", "application/json", "map styles and legends"),
        # the map description of the Maps drafts (GDAL's OGCAPI driver, API=MAP): styles with their map links
        link(f"{href}/styles?f=json", f"{REL}map", "application/json", "map description: styles and their maps"),
        link(f"{href}/styles/default/legend?f=png", "legend", "image/png", "legend of the default style"),
    ])
    doc.setdefault("defaultStyle", "default")
