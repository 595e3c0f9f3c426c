"""OGC API Common: landing page, conformance, collections, API definition."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from ..context import AppContext, json_response, link
from ..negotiate import choose, media_type
from .collections import collection_doc

COMMON_CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
]

F_PARAM = Query(None, description="response format: json or html (overrides Accept)")


def build_router(ctx: AppContext) -> APIRouter:
    r = APIRouter(tags=["Common"])

    @r.get("/", summary="Landing page")
    def landing(request: Request, f: str | None = F_PARAM):
        fmt = choose(request, f, ["json", "html"])
        base = ctx.base_url(request)
        doc = {
            "title": ctx.config.title,
            "description": ctx.config.description,
            "links": [
                link(f"{base}/?f=json", "self", "application/json", "this document"),
                link(f"{base}/?f=html", "alternate", "text/html", "this document as HTML"),
                link(f"{base}/openapi", "service-desc", media_type("openapi"), "the API definition (OpenAPI 3)"),
                link(f"{base}/docs", "service-doc", "text/html", "the API documentation"),
                link(f"{base}/conformance", "conformance", "application/json", "conformance classes"),
                link(f"{base}/conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance", "application/json", "conformance classes"),
                link(f"{base}/collections", "data", "application/json", "collections"),
                link(f"{base}/collections", "http://www.opengis.net/def/rel/ogc/1.0/data", "application/json", "collections"),
            ],
        }
        if "jobs" in ctx.services:
            doc["links"] += [
                link(f"{base}/processes", "http://www.opengis.net/def/rel/ogc/1.0/processes", "application/json", "processes"),
                link(f"{base}/jobs", "http://www.opengis.net/def/rel/ogc/1.0/job-list", "application/json", "jobs"),
            ]
        for more in ctx.services.get("landing_links", ()):  # e.g. tile matrix sets, WMS (cubeserver.tiles, .wms)
            doc["links"] += more(base)
        if fmt == "html":
            return ctx.html("landing.html", request, doc, ctx.config.title)
        return json_response(doc)

    @r.get("/conformance", summary="Conformance classes implemented by this server")
    def conformance(request: Request, f: str | None = F_PARAM):
        fmt = choose(request, f, ["json", "html"])
        doc = {"conformsTo": list(dict.fromkeys(COMMON_CONFORMANCE + ctx.conformance))}
        if fmt == "html":
            return ctx.html("conformance.html", request, doc, "Conformance")
        return json_response(doc)

    @r.get("/collections", summary="The collections of this server")
    def collections(request: Request, f: str | None = F_PARAM):
        fmt = choose(request, f, ["json", "html"])
        base = ctx.base_url(request)
        doc = {
            "links": [
                link(f"{base}/collections?f=json", "self", "application/json", "this document"),
                link(f"{base}/collections?f=html", "alternate", "text/html", "this document as HTML"),
            ],
            "collections": [collection_doc(ctx, c, base) for c in ctx.registry],
        }
        if fmt == "html":
            return ctx.html("collections.html", request, doc, "Collections")
        return json_response(doc)

    @r.get("/collections/{collectionId}", summary="One collection")
    def collection(collectionId: str, request: Request, f: str | None = F_PARAM):
        c = ctx.registry.get(collectionId)
        fmt = choose(request, f, ["json", "html"])
        doc = collection_doc(ctx, c, ctx.base_url(request))
        if fmt == "html":
            return ctx.html("collection.html", request, doc, c.title)
        return json_response(doc)

    return r
