"""The official OGC schemas (vendored under schemas/, see schemas/README.md) as validators.

`validate(doc, "edr-1.1/collections/collection.yaml")` raises `jsonschema.ValidationError` with
the failing path when `doc` breaks the official schema; `errors(doc, name)` lists them all.
The YAML files are OpenAPI 3.0 schema objects: relative `$ref`s between files are resolved from
the file's own folder, `nullable` is honoured by dropping it (3.0 meaning: also null) only where
it appears, and the JSON Schema draft used is 2019-09's superset of keywords that 3.0 allows.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ROOT = Path(__file__).parent / "schemas"
BASE = "file://" + str(ROOT.resolve()) + "/"


def _load(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return _nullable(doc)


def _nullable(node):
    """OpenAPI 3.0 `nullable: true` → JSON Schema `type: [t, "null"]` so real nulls validate."""
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items()}
    if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@functools.lru_cache(maxsize=None)
def _retrieve(uri: str) -> Resource:
    """The vendored file of `uri`, read and parsed once: a validator's registry does not keep what this
    returns, so every `$ref` into another file came back here (one big answer: 3,600 YAML parses, ~30 s)."""
    if not uri.startswith(BASE):
        raise LookupError(f"schema {uri} is not vendored (no network in tests)")
    path = Path(uri[len("file://"):].split("#", 1)[0])
    if not path.exists() and "/schemas/schemas/" in str(path):
        # EDR's edr-geojson schemas point at ../../schemas/X (openapi/schemas/X in the official tree),
        # which is edr-1.1/X in the vendored layout
        path = Path(str(path).replace("/schemas/schemas/", "/schemas/edr-1.1/"))
    return Resource.from_contents(_load(path), default_specification=DRAFT7)


@functools.lru_cache(maxsize=None)
def validator(name: str) -> jsonschema.Validator:
    """A Draft 7 validator for the vendored schema file `name` (relative to schemas/)."""
    schema = _load(ROOT / name)
    schema = dict(schema)
    schema.pop("$id", None) if name.startswith(("edr", "features", "processes", "coverages")) else None
    registry = Registry(retrieve=_retrieve)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    resolver_base = BASE + name
    schema.setdefault("$id", resolver_base)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def errors(doc, name: str) -> list[str]:
    """Every violation of schema `name` by `doc`, as 'path: message' strings (empty = valid)."""
    out = []
    for e in validator(name).iter_errors(doc):
        out.append(f"{'/'.join(map(str, e.absolute_path)) or '.'}: {e.message[:300]}")
    return out


def validate(doc, name: str) -> None:
    """Fail with every violation listed when `doc` breaks the official schema `name`."""
    found = errors(doc, name)
    assert not found, f"{name}: {len(found)} violation(s):\n" + "\n".join(found[:20])
