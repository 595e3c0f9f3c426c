"""WMS 1.3.0 at /wms (OGC 06-042), for the clients that speak only WMS (QGIS, OpenLayers, Leaflet, ArcGIS).

One KVP endpoint: GetCapabilities, GetMap, GetFeatureInfo and GetLegendGraphic, every gridded
collection's variables as layers `collection/variable`. Pictures come from the shared renderer
(cubeserver.render), values from the selection engine. Errors are ServiceExceptionReport XML with
status 400 (wms.errors). Kept out of the OpenAPI document: it is not an OGC API resource.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from ..context import link, run_blocking
from ..errors import APIError
from . import operations as ops
from .capabilities import capabilities
from .errors import WMSError, error_response
from .params import KVP

OPERATIONS = ("GetCapabilities", "GetMap", "GetFeatureInfo", "GetLegendGraphic")


def install(app, ctx) -> None:
    @app.get("/wms", include_in_schema=False)
    async def wms(request: Request):
        kvp = KVP(request.query_params.multi_items())
        wms_url = f"{ctx.base_url(request)}/wms"
        operation = ""
        try:
            service = kvp.get("SERVICE")
            if service is not None and service.strip().upper() != "WMS":
                raise WMSError(f"SERVICE={service!r}: this endpoint is a WMS (SERVICE=WMS)", "InvalidParameterValue",
                               "SERVICE")
            text = (kvp.get("REQUEST") or "").strip()
            operation = next((o for o in OPERATIONS if o.lower() == text.lower()), "")
            if text.lower() == "capabilities":  # the WMS 1.0 name some clients still send
                operation = "GetCapabilities"
            if not text:
                raise WMSError(f"missing parameter REQUEST; one of {', '.join(OPERATIONS)}", "MissingParameterValue",
                               "REQUEST")
            if not operation:
                raise WMSError(f"REQUEST={text!r} is not supported; one of {', '.join(OPERATIONS)}",
                               "OperationNotSupported", "REQUEST")
            version = (kvp.get("VERSION") or kvp.get("WMTVER") or "1.3.0").strip()
            if operation == "GetCapabilities":
                body = await run_blocking(capabilities, ctx.config, ctx.registry, wms_url)
                return Response(body, media_type="text/xml; charset=utf-8")
            if operation != "GetLegendGraphic" and version not in ("1.3.0", "1.1.1"):
                raise WMSError(f"VERSION={version!r} is not supported; this server speaks WMS 1.3.0 (and 1.1.1 "
                               "GetMap/GetFeatureInfo)", "InvalidParameterValue", "VERSION")
            if operation == "GetMap":
                body, media = await run_blocking(ops.get_map, kvp, ctx.registry, version)
                return Response(body, media_type=media, headers={"Cache-Control": ctx.config.tiles.cache_control})
            if operation == "GetFeatureInfo":
                body, media = await run_blocking(ops.get_feature_info, kvp, ctx.registry, version)
                return Response(body, media_type=media)
            body, media = await run_blocking(ops.get_legend_graphic, kvp, ctx.registry)
            return Response(body, media_type=media, headers={"Cache-Control": ctx.config.tiles.cache_control})
        except (WMSError, APIError) as e:
            err = e if isinstance(e, WMSError) else WMSError.from_api(e)
            if err.status >= 500:
                raise
            mode = (kvp.get("EXCEPTIONS") or "XML").strip().upper()
            if operation == "GetMap" and mode in ("BLANK", "INIMAGE", "APPLICATION/VND.OGC.SE_BLANK",
                                                  "APPLICATION/VND.OGC.SE_INIMAGE"):
                body, media = ops.blank(kvp, err.message if "INIMAGE" in mode else None)
                return Response(body, media_type=media)
            return error_response(err)

    def landing_links(base: str) -> list[dict]:
        return [link(f"{base}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities", "alternate", "text/xml",
                     "WMS 1.3.0 capabilities (QGIS, OpenLayers, ArcGIS)")]

    ctx.services.setdefault("landing_links", []).append(landing_links)
