"""A small JSON-Schema checker for process inputs.

Process descriptions publish JSON Schemas; the same schemas validate execute requests
so the description and the checks cannot drift apart. Only the keywords the built-in
processes use are supported (type, enum, bounds, lengths, pattern, items, properties,
member counts, oneOf); jsonschema is not a runtime dependency, and the messages here
name the input.
"""

from __future__ import annotations

import math
import re

from ..errors import BadRequest

_TYPES = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def problems(value, schema: dict, where: str) -> list[str]:
    """Every way `value` violates `schema`, as readable lines starting with `where`."""
    if "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf") or schema.get("anyOf")
        if any(not problems(value, s, where) for s in options):
            return []
        kinds = ", ".join(s.get("title") or s.get("type", "?") for s in options)
        return [f"{where}: does not match any allowed form ({kinds})"]
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_TYPES[t](value) for t in types):
            return [f"{where}: expected {' or '.join(types)}, got {_kind(value)}"]
    out = []
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} is not one of {', '.join(map(repr, schema['enum']))}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{where}: {value} is less than the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{where}: {value} is greater than the maximum {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            out.append(f"{where}: {value} must be greater than {schema['exclusiveMinimum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            out.append(f"{where}: must have at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(f"{where}: must have at most {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            what = f" ({schema['description']})" if schema.get("description") else ""
            out.append(f"{where}: {value!r} does not match the pattern {schema['pattern']}{what}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append(f"{where}: needs at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append(f"{where}: allows at most {schema['maxItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                out += problems(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{where}: missing required member {key!r}")
        if len(value) < schema.get("minProperties", 0):
            out.append(f"{where}: needs at least {schema['minProperties']} member(s)")
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            out.append(f"{where}: allows at most {schema['maxProperties']} member(s), got {', '.join(map(repr, value))}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                out += problems(item, props[key], f"{where}.{key}")
            elif extra is False:
                out.append(f"{where}: unknown member {key!r}; allowed: {', '.join(props)}")
            elif isinstance(extra, dict):
                out += problems(item, extra, f"{where}.{key}")
    return out


def check(value, schema: dict, name: str) -> None:
    """Raise BadRequest naming input `name` when `value` does not match `schema`."""
    found = problems(value, schema, name)
    if found:
        raise BadRequest("; ".join(found[:5]), parameter=name)


def _kind(value) -> str:
    for t, test in _TYPES.items():
        if t != "integer" and test(value):
            return t
    return type(value).__name__
