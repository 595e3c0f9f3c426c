"""The WMS 1.3.0 operations behind /wms: GetMap, GetFeatureInfo, GetLegendGraphic (GetCapabilities: capabilities.py).

Every picture comes from the shared renderer (cubeserver.render: render_map, legend_png/legend_json);
this module only turns WMS parameters into its MapRequest: the BBOX in the CRS's own axis order is
swapped to x/easting first (EPSG:4326 is lat,lon in 1.3.0; 1.1.1 and CRS:84 are lon,lat), TIME /
ELEVATION / DIM_ become `datetime` / `subset`, STYLES the style id, several LAYERS are drawn in order
and composited. Blocking: run through context.run_blocking.
"""

from __future__ import annotations

import io

from pyproj import CRS

from ..errors import APIError
from . import featureinfo as fi
from . import layers as L
from .errors import WMSError
from .params import KVP, bbox_xy, bgcolor, boolean, size, wms_crs

IMAGE_FORMATS = {"image/png": "png", "png": "png", "image/jpeg": "jpeg", "jpeg": "jpeg", "image/jpg": "jpeg",
                 "image/webp": "webp", "webp": "webp", "image/png; mode=8bit": "png", "image/png8": "png"}
MEDIA = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def _crs_text(text: str) -> str:
    return "http://www.opengis.net/def/crs/OGC/1.3/CRS84" if text.strip().upper() in ("CRS:84", "OGC:CRS84") else text.strip()


def map_frame(kvp: KVP, version: str) -> tuple[str, CRS, tuple, int, int]:
    """(crs text for the renderer, CRS, bbox x-first, width, height) of a GetMap or GetFeatureInfo."""
    text = kvp.get("CRS") or kvp.get("SRS")  # SRS: the WMS 1.1.1 name
    if not text:
        raise WMSError("missing parameter CRS", "MissingParameterValue", "CRS")
    crs = wms_crs(text)
    # WMS 1.1.1 BBOX is always x,y (lon,lat); 1.3.0 follows the CRS's axis order
    box = bbox_xy(kvp.required("BBOX"), crs if version != "1.1.1" else CRS.from_user_input("OGC:CRS84"))
    return _crs_text(text), crs, box, size(kvp, "WIDTH"), size(kvp, "HEIGHT")


def _layers_and_styles(kvp: KVP, registry, layers_param: str = "LAYERS") -> list[tuple[L.Layer, str | None]]:
    names = [n for n in kvp.required(layers_param).split(",")]
    if any(not n.strip() for n in names):
        raise WMSError(f"{layers_param} has an empty layer name", "LayerNotDefined", layers_param)
    styles_text = kvp.get("STYLES")
    styles = styles_text.split(",") if styles_text else [""] * len(names)
    if len(styles) != len(names):
        raise WMSError(f"STYLES names {len(styles)} styles for {len(names)} layers; give one per layer "
                       "(empty for the default)", "StyleNotDefined", "STYLES")
    return [(L.resolve(registry, n, layers_param), (s.strip() or None)) for n, s in zip(names, styles)]


def _image_format(kvp: KVP) -> str:
    text = kvp.required("FORMAT")
    fmt = IMAGE_FORMATS.get(text.strip().lower())
    if fmt is None:
        raise WMSError(f"FORMAT {text!r} is not offered; use one of {', '.join(MEDIA.values())}", "InvalidFormat",
                       "FORMAT")
    return fmt


def get_map(kvp: KVP, registry, version: str) -> tuple[bytes, str]:
    """(image bytes, media type) of a GetMap."""
    from ..render import MapRequest, render_map

    crs_text, crs, box, width, height = map_frame(kvp, version)
    fmt = _image_format(kvp)
    transparent = boolean(kvp, "TRANSPARENT", False)
    bg = bgcolor(kvp)
    pairs = _layers_and_styles(kvp, registry)
    images = []
    for k, (layer, style) in enumerate(pairs):
        datetime, subset = L.dimension_values(layer, kvp.get("TIME"), kvp.get("ELEVATION"), kvp.dims())
        single = len(pairs) == 1
        req = MapRequest(parameter=layer.variable, bbox=box, crs=crs_text, width=width, height=height,
                         datetime=datetime, subset=subset, style=None if style in (None, "default") else style,
                         transparent=transparent if single else True, bgcolor=bg if single else None,
                         format=fmt if single else "png")
        try:
            images.append(render_map(layer.collection, req))
        except APIError as e:
            raise WMSError.from_api(e) from None
    if len(images) == 1:
        return images[0], MEDIA[fmt]
    return composite(images, fmt, transparent, bg, width, height), MEDIA[fmt]


def composite(images: list[bytes], fmt: str, transparent: bool, bg: str | None, width: int, height: int) -> bytes:
    """Layers drawn in request order (the first at the bottom, WMS 1.3.0 7.3.3.3) over the background."""
    from PIL import Image

    colour = (255, 255, 255)
    if bg:
        colour = tuple(int(bg[2:][i:i + 2], 16) for i in (0, 2, 4))
    base = Image.new("RGBA", (width, height), (*colour, 0 if transparent else 255))
    for body in images:
        base.alpha_composite(Image.open(io.BytesIO(body)).convert("RGBA"))
    out = io.BytesIO()
    if fmt == "jpeg":
        base.convert("RGB").save(out, format="JPEG", quality=90)
    else:
        base.save(out, format="PNG" if fmt == "png" else "WEBP", **({"lossless": True} if fmt == "webp" else {}))
    return out.getvalue()


def blank(kvp: KVP, message: str | None = None) -> tuple[bytes, str]:
    """EXCEPTIONS=BLANK / INIMAGE: an empty image of the asked size and format (INIMAGE: with the message)."""
    from PIL import Image, ImageDraw

    try:
        width, height = size(kvp, "WIDTH"), size(kvp, "HEIGHT")
    except WMSError:
        width, height = 256, 256
    fmt = IMAGE_FORMATS.get((kvp.get("FORMAT") or "").strip().lower(), "png")
    img = Image.new("RGBA", (width, height), (255, 255, 255, 0 if boolean(kvp, "TRANSPARENT", False) else 255))
    if message:
        ImageDraw.Draw(img).multiline_text((4, 4), _wrap(message, max(10, width // 7)), fill=(200, 0, 0, 255))
    out = io.BytesIO()
    if fmt == "jpeg":
        img.convert("RGB").save(out, format="JPEG")
    else:
        img.save(out, format="PNG" if fmt == "png" else "WEBP")
    return out.getvalue(), MEDIA[fmt]


def _wrap(text: str, n: int) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > n and line:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return "\n".join(lines + [line])


INFO_FORMATS = {"application/json": "json", "json": "json", "application/geo+json": "json",
                "text/html": "html", "html": "html", "text/plain": "text", "text/xml": None}


def get_feature_info(kvp: KVP, registry, version: str) -> tuple[bytes, str]:
    """(body, media type) of a GetFeatureInfo: JSON (GeoJSON features), HTML table or plain text."""
    crs_text, crs, box, width, height = map_frame(kvp, version)
    text = (kvp.get("INFO_FORMAT") or "text/html").strip().lower()
    fmt = INFO_FORMATS.get(text)
    if fmt is None:
        raise WMSError(f"INFO_FORMAT {text!r} is not offered; use application/json, text/html or text/plain",
                       "InvalidFormat", "INFO_FORMAT")
    pairs = _layers_and_styles(kvp, registry, "QUERY_LAYERS") if kvp.get("QUERY_LAYERS") else None
    if pairs is None:
        raise WMSError("missing parameter QUERY_LAYERS", "LayerNotDefined", "QUERY_LAYERS")
    i_name, j_name = ("X", "Y") if version == "1.1.1" and kvp.get("I") is None else ("I", "J")
    ij = []
    for name, limit in ((i_name, width), (j_name, height)):
        raw = kvp.get(name)
        if raw is None or not str(raw).strip():
            raise WMSError(f"missing parameter {name} (the pixel column/row of the click, 0..{limit - 1})",
                           "MissingParameterValue", name)
        try:
            v = int(raw)
        except (TypeError, ValueError):
            raise WMSError(f"{name} must be a pixel index 0..{limit - 1}, got {raw!r}", "InvalidPoint", name) from None
        if not 0 <= v < limit:
            raise WMSError(f"{name}={v} is outside the map (0..{limit - 1})", "InvalidPoint", name)
        ij.append(v)
    x, y = fi.pixel_point(box, width, height, *ij)
    features = []
    for layer, _ in pairs:
        datetime, subset = L.dimension_values(layer, kvp.get("TIME"), kvp.get("ELEVATION"), kvp.dims(),
                                              allow_time_range=True)
        try:
            f = fi.values_at(layer, x, y, crs, datetime, subset)
        except APIError as e:
            raise WMSError.from_api(e) from None
        if f is not None:
            features.append(f)
    if fmt == "json":
        import orjson

        return orjson.dumps(fi.as_json(features, x, y, crs_text), option=orjson.OPT_SERIALIZE_NUMPY), "application/json"
    if fmt == "html":
        return fi.as_html(features, x, y, crs_text).encode(), "text/html; charset=utf-8"
    return fi.as_text(features).encode(), "text/plain; charset=utf-8"


def get_legend_graphic(kvp: KVP, registry) -> tuple[bytes, str]:
    """The legend of LAYER in STYLE (default: the layer's default) as PNG, or JSON colour stops."""
    from ..render import legend_json, legend_png

    layer = L.resolve(registry, kvp.required("LAYER"), "LAYER")
    style = (kvp.get("STYLE") or "").strip() or None
    text = (kvp.get("FORMAT") or "image/png").strip().lower()
    try:
        if text in ("application/json", "json"):
            import orjson

            return orjson.dumps(legend_json(layer.collection, layer.variable, style)), "application/json"
        if text not in ("image/png", "png"):
            raise WMSError(f"FORMAT {text!r} is not offered for legends; use image/png or application/json",
                           "InvalidFormat", "FORMAT")
        extra = {}
        if kvp.get("WIDTH"):
            extra["width"] = size(kvp, "WIDTH")
        if kvp.get("HEIGHT"):
            extra["height"] = size(kvp, "HEIGHT")
        return legend_png(layer.collection, layer.variable, style, **extra), "image/png"
    except APIError as e:
        raise WMSError.from_api(e) from None
