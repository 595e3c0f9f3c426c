"""WMS 1.3.0 service exceptions (OGC 06-042 clause 6.11, ServiceExceptionReport XML) with HTTP status 400.

Errors raised anywhere below a WMS request (the shared parsers, selection engine and renderer raise
cubeserver.errors.APIError naming a parameter) are mapped to the WMS exception codes by the
parameter they name, so a client gets `InvalidDimensionValue` for a bad TIME whether the WMS layer
or the selection engine noticed it.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from fastapi.responses import Response

from ..errors import APIError

MEDIA = "text/xml"  # what OWSLib, QGIS and GDAL expect (application/vnd.ogc.se_xml is the 1.1.1 name)

# parameter named by a shared error -> WMS 1.3.0 exception code (None: no code attribute)
CODE_BY_PARAMETER = {
    "datetime": "InvalidDimensionValue", "time": "InvalidDimensionValue", "subset": "InvalidDimensionValue",
    "elevation": "InvalidDimensionValue",
    "crs": "InvalidCRS", "bbox-crs": "InvalidCRS",
    "style": "StyleNotDefined", "styles": "StyleNotDefined", "styleId": "StyleNotDefined",
    "f": "InvalidFormat", "format": "InvalidFormat",
    "properties": "LayerNotDefined", "parameter": "LayerNotDefined", "collectionId": "LayerNotDefined",
    "layers": "LayerNotDefined", "layer": "LayerNotDefined",
}
# our MapRequest/OGC API names -> the WMS parameter a client sent
WMS_NAME = {"datetime": "TIME", "subset": "ELEVATION", "crs": "CRS", "bbox-crs": "CRS", "style": "STYLES",
            "styles": "STYLES", "f": "FORMAT", "properties": "LAYERS", "bbox": "BBOX", "width": "WIDTH",
            "height": "HEIGHT", "bgcolor": "BGCOLOR", "transparent": "TRANSPARENT", "collectionId": "LAYERS"}


class WMSError(Exception):
    """One WMS service exception: `code` (or None), the message and the parameter at fault (`locator`)."""

    def __init__(self, message: str, code: str | None = None, locator: str | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.code, self.locator, self.status = message, code, locator, status

    @classmethod
    def from_api(cls, err: APIError) -> "WMSError":
        param = err.parameter
        code = CODE_BY_PARAMETER.get(param or "")
        if err.status == 413:
            code = None
        locator = WMS_NAME.get(param or "", (param or "").upper() or None)
        return cls(err.detail, code, locator, 400 if err.status < 500 else err.status)


def exception_report(err: WMSError) -> bytes:
    attrs = ""
    if err.code:
        attrs += f" code={quoteattr(err.code)}"
    if err.locator:
        attrs += f" locator={quoteattr(err.locator)}"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/ogc '
            'http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd">\n'
            f'  <ServiceException{attrs}>{escape(err.message)}</ServiceException>\n'
            '</ServiceExceptionReport>\n').encode()


def error_response(err: WMSError) -> Response:
    return Response(exception_report(err), status_code=err.status, media_type=MEDIA)
