"""Which media types each operation can answer in, from the same tables the routes negotiate with.

`negotiate.FORMATS` gives a format key's media type; the lists of keys come from the modules that
answer (`edr.output.FORMATS`, `coverages.render.FORMAT_KEYS`) or, for the JSON/HTML pages whose
routes pass a literal list to `negotiate.choose`, are restated here. Each entry maps a media type
to the schema its body follows.
"""

from __future__ import annotations

from ..coverages.render import FORMAT_KEYS as COVERAGE_FORMATS
from ..edr.output import FORMATS as EDR_FORMATS
from ..negotiate import FORMATS, _ALIAS
from .schemas import ref

BINARY = ref("Binary")
HTML = ref("HTML")
SCHEMA_JSON = "application/schema+json"
ZARR_CHUNK = "application/octet-stream"

# the schema of a body in each format, unless an operation says otherwise
DEFAULT_BODY = {
    "html": HTML,
    "covjson": ref("edr.covjson.coverageJSON"),
    "netcdf": BINARY,
    "netcdf4": BINARY,
    "geotiff": BINARY,
    "png": BINARY,
    "jpeg": BINARY,
    "webp": BINARY,
    "csv": ref("Text"),
    "geojson": ref("edr.edr-geojson.edrFeatureCollectionGeoJSON"),
}


def media(key: str) -> str:
    return FORMATS[key].media_type


def content(keys: list[str], json_body: dict | None = None, **bodies: dict) -> dict:
    """An OpenAPI `content` map for format keys; `json_body` is the schema of the JSON answer."""
    out = {}
    for key in keys:
        schema = bodies.get(key) or (json_body if key == "json" else DEFAULT_BODY.get(key)) or {}
        out[media(key)] = {"schema": schema}
    return out


def f_values(keys: list[str], json_means: str | None = None) -> list[str]:
    """Every spelling of `f` that selects one of `keys` (negotiate's aliases), canonical keys first.

    `json_means`: `f=json` is accepted and answers in that key's format (EDR, Coverages).
    """
    values = list(keys)
    values += sorted(a for a, k in _ALIAS.items() if k in keys and a not in values)
    if json_means and "json" not in values:
        values.append("json")
    return values


def edr_keys(qtype: str) -> list[str]:
    """The query's formats, then `html` (cubeserver.viewer's page drawing the answer)."""
    return list(EDR_FORMATS[qtype]) + ["html"]


def location_keys() -> list[str]:
    """A named location answers as a point/path (EDR_FORMATS['locations']) or an area."""
    return list(dict.fromkeys([*EDR_FORMATS["locations"], *EDR_FORMATS["area"]]))


def coverage_keys() -> list[str]:
    return list(COVERAGE_FORMATS)


def map_keys() -> list[str]:
    from ..render.request import FORMATS as MAP_FORMATS

    return list(MAP_FORMATS)
