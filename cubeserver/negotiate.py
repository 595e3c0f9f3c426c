"""Content negotiation: `f=` and `Accept` -> one format key from one table of formats."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from .errors import BadRequest, NotAcceptable


@dataclass(frozen=True)
class Format:
    key: str
    media_type: str
    aliases: tuple[str, ...]
    extension: str


FORMATS: dict[str, Format] = {
    f.key: f
    for f in (
        Format("json", "application/json", ("json",), "json"),
        Format("html", "text/html", ("html", "htm"), "html"),
        Format("covjson", "application/prs.coverage+json", ("covjson", "coveragejson", "cov+json", "application/vnd.cov+json", "application/prs.coverage+json"), "covjson"),
        Format("netcdf", "application/x-netcdf", ("netcdf", "nc", "netcdf3", "application/netcdf"), "nc"),
        Format("netcdf4", "application/x-netcdf4", ("netcdf4", "nc4", "netcdf-4"), "nc"),
        Format("geotiff", "image/tiff; application=geotiff", ("geotiff", "tif", "tiff", "gtiff", "cog", "image/tiff"), "tif"),
        Format("png", "image/png", ("png", "image/png"), "png"),
        Format("jpeg", "image/jpeg", ("jpeg", "jpg", "image/jpeg"), "jpg"),
        Format("webp", "image/webp", ("webp", "image/webp"), "webp"),
        Format("geojson", "application/geo+json", ("geojson", "geo+json", "application/geo+json"), "geojson"),
        Format("csv", "text/csv", ("csv", "text/csv"), "csv"),
        Format("openapi", "application/vnd.oai.openapi+json;version=3.0", ("openapi",), "json"),
        Format("health", "application/health+json", ("health", "application/health+json"), "json"),
        Format("text", "text/plain", ("text", "txt", "text/plain"), "txt"),
    )
}

_ALIAS = {a: f.key for f in FORMATS.values() for a in (*f.aliases, f.key)}
_MEDIA = {f.media_type.split(";")[0]: f.key for f in FORMATS.values()}
_MEDIA.update({"application/vnd.cov+json": "covjson", "application/netcdf": "netcdf", "image/tiff": "geotiff",
               "application/vnd.oai.openapi+json": "openapi", "application/ld+json": "json"})


_JSON_FLAVOURS = ("json", "covjson", "geojson", "health")


def media_type(key: str) -> str:
    return FORMATS[key].media_type


def choose(request: Request, f: str | None, allowed: list[str], default: str | None = None) -> str:
    """Pick the response format: `f` wins, then the Accept header, then the default.

    `allowed` is ordered; its first entry is the default for scripts. A browser
    (Accept with text/html first) gets HTML when the resource has an HTML view.
    """
    default = default or allowed[0]
    if f:
        key = _ALIAS.get(f.strip().lower())
        if key not in allowed:
            raise BadRequest(f"unsupported format f={f!r}; allowed: {', '.join(allowed)}", parameter="f")
        return key
    accept = request.headers.get("accept", "")
    if not accept or accept.strip() == "*/*":
        return default
    ranked = []
    for i, part in enumerate(accept.split(",")):
        pieces = part.strip().split(";")
        mt = pieces[0].strip().lower()
        q = 1.0
        for p in pieces[1:]:
            p = p.strip()
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        ranked.append((-q, i, mt))
    ranked.sort()
    wildcard = False
    for _, _, mt in ranked:
        if mt in ("*/*", "application/*"):
            wildcard = True
            continue
        if mt.endswith("/*"):  # e.g. image/*: the first allowed format of that type
            kind = next((k for k in allowed if media_type(k).startswith(mt[:-1])), None)
            if kind is not None:
                return kind
            continue
        key = _MEDIA.get(mt)
        if key in allowed:
            return key
        if mt == "application/json" and default in _JSON_FLAVOURS:
            return default  # plain JSON asks for our JSON flavour (CoverageJSON, GeoJSON)
    if wildcard:
        return default
    raise NotAcceptable(
        f"cannot produce {accept!r}; available: {', '.join(media_type(k) for k in allowed)}", parameter="Accept"
    )
