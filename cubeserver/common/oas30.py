"""FastAPI's OpenAPI 3.1 document rewritten as OpenAPI 3.0, which every OGC API part requires.

The conformance classes we declare are `.../conf/oas30`, and OGC test suites, GDAL and older
code generators read 3.0. FastAPI (through pydantic 2) writes JSON Schema 2020-12, so the
few 3.1-only constructs it uses are translated: `{"type": "null"}` alternatives become
`nullable: true`, `const` an `enum`, numeric `exclusiveMinimum/Maximum` the 3.0 boolean
form, schema `examples` a single `example`, and binary content a `format: binary` string.
"""

from __future__ import annotations

from typing import Any

VERSION = "3.0.3"
_SCHEMA_PARENTS = {"schema", "items", "additionalProperties", "not"}
_SCHEMA_MAPS = {"properties", "schemas"}
_SCHEMA_LISTS = {"anyOf", "oneOf", "allOf"}


def downgrade(spec: dict) -> dict:
    """A new 3.0 document; the 3.1 input is left as it was."""
    out = _walk(spec, is_schema=False)
    out["openapi"] = VERSION
    out.pop("jsonSchemaDialect", None)
    out.pop("webhooks", None)
    info = out.get("info", {})
    info.pop("summary", None)
    info.get("license", {}).pop("identifier", None)
    return out


def _walk(node: Any, is_schema: bool) -> Any:
    if isinstance(node, list):
        return [_walk(v, is_schema) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in _SCHEMA_PARENTS:
            out[key] = _walk(value, is_schema=True) if isinstance(value, dict) else value
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _walk(s, is_schema=True) for name, s in value.items()}
        elif key in _SCHEMA_LISTS and is_schema:
            out[key] = [_walk(s, is_schema=True) for s in value]
        else:
            out[key] = _walk(value, is_schema=False)
    return _schema_30(out) if is_schema else out


def _schema_30(s: dict) -> dict:
    """One schema object (its children already converted)."""
    for key in ("anyOf", "oneOf"):
        options = s.get(key)
        if isinstance(options, list) and any(o == {"type": "null"} for o in options):
            rest = [o for o in options if o != {"type": "null"}]
            s["nullable"] = True
            if len(rest) == 1 and not set(rest[0]) & set(s):
                del s[key]
                s.update(rest[0])
            else:
                s[key] = rest
    if isinstance(s.get("type"), list):
        types = [t for t in s["type"] if t != "null"]
        if len(types) < len(s["type"]):
            s["nullable"] = True
        s["type"] = types[0] if len(types) == 1 else "string"
    if "const" in s:
        s["enum"] = [s.pop("const")]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(s.get(bound), (int, float)) and not isinstance(s.get(bound), bool):
            s[plain] = s[bound]
            s[bound] = True
    if isinstance(s.get("examples"), list):
        examples = s.pop("examples")
        if examples:
            s["example"] = examples[0]
    if s.pop("contentMediaType", None) is not None or s.pop("contentEncoding", None) is not None:
        s.setdefault("format", "binary")
    return s
