"""Bundle the official OGC schemas the OpenAPI document uses into cubeserver/openapi/official_schemas.json.

Run from the project root: `python tools/bundle_openapi_schemas.py`. It reads the vendored copies in
tests/conformance/schemas (see the README there for repositories and commits), takes the schema files
the document points at (ROOTS) and every file they reference, and writes them as OpenAPI 3.0
components named `<standard>.<path>` (e.g. `edr.collections.collection`), with each relative `$ref`
rewritten to `#/components/schemas/...`, so the document is self-contained and a client (schemathesis,
code generators) resolves it offline. Each source folder's LICENSE text is kept in the output under
`x-licences`, and copied next to the bundle in cubeserver/openapi/licences/.

Deviations from the official text (each listed in the output under `x-changes`):
- EDR 1.1 `covjson/ndArray.yaml`: its `oneOf` is ambiguous (a number array matches the number and
  integer branches and the shape branch at once, so no valid NdArray passes `oneOf`); it becomes
  `anyOf`, which is what the CoverageJSON text (section 9.3) describes.
- EDR 1.1 `covjson/domain.yaml` `axes`: same (the Trajectory branch matches every Grid domain).
- EDR 1.1 `covjson/referenceSystem.yaml`: `anyOf`, plus the branch for spatial CRSs (GeographicCRS,
  ProjectedCRS, VerticalCRS with an optional `id`, CoverageJSON 1.0 section 5.1) the EDR copy lacks.
- Processes 1.0 `inputValueNoObject.yaml`: same ambiguity (any string is also a binaryInputValue,
  any integer also a number); `anyOf`, as the requirement text (a value of one of these types) says.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "tests" / "conformance" / "schemas"
OUT = ROOT / "cubeserver" / "openapi" / "official_schemas.json"
LICENCES = OUT.parent / "licences"

# folder -> component prefix
PREFIX = {"edr-1.1": "edr", "features-1.0.1": "features", "processes-1.0": "processes", "coverages-draft": "coverages"}
ROOTS = [
    "edr-1.1/core/landingPage.yaml",
    "edr-1.1/core/confClasses.yaml",
    "edr-1.1/core/exception.yaml",
    "edr-1.1/collections/collections.yaml",
    "edr-1.1/collections/collection.yaml",
    "edr-1.1/queries/instances.yaml",
    "edr-1.1/covjson/coverageJSON.yaml",
    "edr-1.1/edr-geojson/edrFeatureCollectionGeoJSON.yaml",
    "features-1.0.1/collection.yaml",
    "features-1.0.1/featureCollectionGeoJSON.yaml",
    "features-1.0.1/featureGeoJSON.yaml",
    "features-1.0.1/exception.yaml",
    "processes-1.0/processList.yaml",
    "processes-1.0/process.yaml",
    "processes-1.0/statusInfo.yaml",
    "processes-1.0/jobList.yaml",
    "processes-1.0/results.yaml",
    "processes-1.0/exception.yaml",
]
ONE_OF = "top-level oneOf -> anyOf: the official oneOf is ambiguous (a valid value matches several branches"
SPATIAL_CRS = {"description": "A spatial (geographic, projected or vertical) CRS, CoverageJSON 1.0 section 5.1",
               "properties": {"type": {"type": "string", "enum": ["GeographicCRS", "ProjectedCRS", "VerticalCRS"]},
                              "id": {"type": "string"}}}
CHANGES = {
    "edr-1.1/covjson/ndArray.yaml": ONE_OF + ": number/integer/shape), so no NdArray passes it",
    "edr-1.1/covjson/referenceSystem.yaml": ONE_OF + "), and a third branch for the spatial CRSs of "
                                            "CoverageJSON 1.0 section 5.1 (GeographicCRS, ProjectedCRS, VerticalCRS: a "
                                            "`type` and an optional `id`), which the EDR file lacks, so no "
                                            '{"type": "GeographicCRS", "id": ...} passed it',
    "edr-1.1/covjson/domain.yaml": "properties/axes: " + ONE_OF + ": the Trajectory branch requires nothing at "
                                   "the level of `axes`, so every Grid domain matches it too)",
    "processes-1.0/inputValueNoObject.yaml": ONE_OF + ": a string matches `string` and binaryInputValue, "
                                             "an integer `number` and `integer`), so no such value passes it",
}


def name_of(rel: str) -> str:
    folder, _, rest = rel.partition("/")
    return PREFIX[folder] + "." + rest.rsplit(".", 1)[0].replace("/", ".")


def load(rel: str) -> dict:
    return yaml.safe_load((SRC / rel).read_text(encoding="utf-8"))


def resolve(base: str, ref: str) -> str:
    """The vendored path `ref` (relative to file `base`) points at, normalised."""
    parts = base.split("/")[:-1]
    for piece in ref.split("/"):
        if piece == "..":
            parts.pop()
        elif piece not in (".", ""):
            parts.append(piece)
    path = "/".join(parts)
    if path.startswith("schemas/"):  # written relative to the repository's schemas/ folder itself
        path = base.split("/")[0] + path[len("schemas"):]
    return path


def rewrite(node, rel: str, todo: list[str]):
    """Copy of `node` with every $ref made a component reference; referenced files are queued."""
    if isinstance(node, list):
        return [rewrite(v, rel, todo) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            target, _, frag = value.partition("#")
            if not target:  # inside this file: only #/definitions/x is used
                if not frag.startswith("/definitions/"):
                    raise SystemExit(f"{rel}: unsupported $ref {value}")
                out[key] = f"#/components/schemas/{name_of(rel)}.{frag.rsplit('/', 1)[1]}"
                continue
            if target.startswith(("http:", "https:")):
                raise SystemExit(f"{rel}: remote $ref {value} (not vendored)")
            path = resolve(rel, target)
            if not (SRC / path).exists():
                raise SystemExit(f"{rel}: $ref {value} -> {path} does not exist")
            todo.append(path)
            suffix = "" if not frag else "." + frag.rsplit("/", 1)[1]
            out[key] = f"#/components/schemas/{name_of(path)}{suffix}"
        else:
            out[key] = rewrite(value, rel, todo)
    return out


def bundle() -> dict:
    schemas: dict[str, dict] = {}
    todo, done = list(ROOTS), set()
    while todo:
        rel = todo.pop()
        if rel in done:
            continue
        done.add(rel)
        doc = load(rel)
        if rel in CHANGES:
            at = doc
            if CHANGES[rel].startswith("properties/"):  # a oneOf below the top: "properties/<name>: ..."
                at = doc["properties"][CHANGES[rel].split(":")[0].split("/")[1]]
            at["anyOf"] = at.pop("oneOf")
            if rel.endswith("covjson/referenceSystem.yaml"):
                at["anyOf"].append(SPATIAL_CRS)
        definitions = doc.pop("definitions", {}) if isinstance(doc, dict) else {}
        schemas[name_of(rel)] = rewrite(doc, rel, todo)
        for key, sub in definitions.items():
            schemas[f"{name_of(rel)}.{key}"] = rewrite(sub, rel, todo)
    folders = sorted({rel.split("/")[0] for rel in done})
    return {
        "x-source": "tests/conformance/schemas (see its README.md for repositories and commits); "
                    "generated by tools/bundle_openapi_schemas.py",
        "x-licences": {f: (SRC / f / "LICENSE").read_text(encoding="utf-8") for f in folders},
        "x-changes": {name_of(k): v for k, v in CHANGES.items() if k in done},
        "schemas": dict(sorted(schemas.items())),
    }


def main() -> int:
    out = bundle()
    OUT.write_text(json.dumps(out, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    LICENCES.mkdir(exist_ok=True)
    for folder in out["x-licences"]:
        shutil.copyfile(SRC / folder / "LICENSE", LICENCES / f"{folder}.LICENSE")
    print(f"{OUT.relative_to(ROOT)}: {len(out['schemas'])} schemas from {', '.join(out['x-licences'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
