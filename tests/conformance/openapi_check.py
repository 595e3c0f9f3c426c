"""Check a real answer against the OpenAPI document: is its status documented for the operation,
its media type documented for that status, and does its body validate against the documented schema?

`Checker(doc).problems(method, path, status, content_type, body)` lists what is wrong (empty = the
answer is what the document says). Paths are matched as OpenAPI 3.0 says: concrete paths before
templated ones; `{key}` of the Zarr route may hold slashes.
"""

from __future__ import annotations

import json
import re

from jsonschema.validators import extend
from openapi_schema_validator import OAS30Validator

_JSON = re.compile(r"^application/([a-z.+-]*\+)?json$|^application/vnd\.oai\.openapi\+json$")


def _regex(template: str) -> re.Pattern:
    out, pos = "", 0
    for m in re.finditer(r"\{([^}]+)\}", template):
        out += re.escape(template[pos:m.start()]) + ("(.+)" if m.group(1) == "key" else "([^/]+)")
        pos = m.end()
    return re.compile("^" + out + re.escape(template[pos:]) + "$")


_SCALARS = (str, int, float, bool, type(None))


def _items(validator, items, instance, schema):
    """OAS 3.0 `items`, with each distinct scalar item (same type, same value) validated once.

    A scalar's verdict against the items schema depends on its type and value alone, so the answer
    is the same as validating every item; only the duplicate copies of one error are not repeated.
    CoverageJSON ranges repeat values by the hundred thousand (the whole mur-sst cube: 1.3 million
    numbers, 3,300 distinct), which took ~40 s an answer to validate one by one. Objects and arrays
    are still validated item by item."""
    if not validator.is_type(instance, "array"):
        return
    seen = set()
    for index, item in enumerate(instance):
        if type(item) in _SCALARS:
            key = (type(item), item)
            if key in seen:
                continue
            seen.add(key)
        yield from validator.descend(item, items, path=index)


_Validator = extend(OAS30Validator, {"items": _items})


def media(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


class Checker:
    def __init__(self, doc: dict):
        self.doc = doc
        self.paths = sorted(doc["paths"], key=lambda p: (p.count("{"), -len(p)))
        self.regexes = {p: _regex(p) for p in self.paths}
        self._validators: dict[str, _Validator] = {}

    def operation(self, method: str, path: str) -> tuple[str, dict] | None:
        for template in self.paths:
            if self.regexes[template].match(path) and method.lower() in self.doc["paths"][template]:
                return template, self.doc["paths"][template][method.lower()]
        return None

    def response(self, op: dict, status: int) -> dict | None:
        r = op["responses"].get(str(status)) or op["responses"].get(f"{str(status)[0]}XX") or op["responses"].get("default")
        if r and "$ref" in r:
            r = self.doc["components"]["responses"][r["$ref"].rsplit("/", 1)[1]]
        return r

    def validator(self, schema: dict) -> _Validator:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            root = {"allOf": [schema], "components": self.doc["components"]}
            self._validators[key] = _Validator(root)
        return self._validators[key]

    def problems(self, method: str, path: str, status: int, content_type: str | None, body: bytes) -> list[str]:
        found = self.operation(method, path)
        if found is None:
            return [f"{method} {path}: no operation documented"]
        template, op = found
        where = f"{method} {template} -> {status}"
        r = self.response(op, status)
        if r is None:
            return [f"{where}: status not documented (documented: {', '.join(op['responses'])})"]
        content = r.get("content") or {}
        if not content:
            return [] if not body else [f"{where}: a body, where the document says none"]
        mt = media(content_type or "")
        entry = next((v for k, v in content.items() if media(k) == mt), None)
        if entry is None:
            return [f"{where}: media type {mt!r} not documented (documented: {', '.join(content)})"]
        if not _JSON.match(mt) or not body:
            return []
        errors = sorted(self.validator(entry.get("schema", {})).iter_errors(json.loads(body)), key=lambda e: e.path)
        return [f"{where} [{mt}]: {'/'.join(map(str, e.absolute_path)) or '.'}: {e.message[:200]}" for e in errors[:5]]
