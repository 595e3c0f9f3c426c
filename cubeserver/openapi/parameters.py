"""Query parameters as the server reads them: plain (not nullable) types, `f` enums, bbox shape, bounds.

FastAPI writes an optional parameter as `anyOf: [T, null]` (3.0: `nullable`); a query parameter is
either sent or not, so that becomes plain T. `f` gets the enum of spellings the operation accepts
(`Op.f`, from negotiate's aliases), `bbox` the pattern of 4 or 6 comma-separated numbers.
"""

from __future__ import annotations

NUMBER = r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"
BBOX_PATTERN = rf"^\s*{NUMBER}(\s*,\s*{NUMBER}){{3}}((\s*,\s*{NUMBER}){{2}})?\s*$"


# Optional query parameters whose empty value (`name=`) the server reads as absent; any other string
# parameter refuses an empty value with a 400, so it gets `minLength: 1`. `f` is blank-tolerant everywhere
# (negotiate.choose); EDR reads datetime/z/crs/units through edr.params._blank; Features ignores empty
# bbox-crs/properties/crs and queryable filters; the job list drops empty status/processID/type entries.
BLANK_IS_ABSENT = {
    "edr": {"datetime", "z", "crs", "within-units", "width-units", "height-units"},
    "locations": {"bbox", "datetime"},
    "features": {"bbox-crs", "properties", "crs"},
    "jobs": {"status", "processID", "type"},
}
# Features: the queryable filters (`name=` matches an empty value) take an empty value too; these do not
FEATURES_BLANK_IS_400 = {"bbox", "datetime", "limit", "offset"}
EDR_QUERIES = ("/position", "/area", "/cube", "/radius", "/trajectory", "/corridor", "/locations/{locationId}")


def kind_of(path: str) -> str | None:
    if path.endswith(EDR_QUERIES):
        return "edr"
    if path.endswith("/locations"):
        return "locations"
    if path.endswith(("/items", "/items/{featureId}")):
        return "features"
    if path == "/jobs":
        return "jobs"
    return None


def plain(schema: dict) -> dict:
    """A parameter schema without `nullable`/`title` (sent or absent, never null)."""
    s = {k: v for k, v in schema.items() if k not in ("nullable", "title")}
    if "anyOf" in s and len(s["anyOf"]) == 1:
        inner = s.pop("anyOf")[0]
        s = {**inner, **s}  # what the route declares outside the anyOf (json_schema_extra) wins
    return s


def fix(parameters: list[dict], f_values: list[str] | None, path: str) -> list[dict]:
    """The operation's parameters, cleaned up (a new list)."""
    out = []
    for p in parameters:
        if "$ref" in p:
            out.append(p)
            continue
        p = dict(p)
        p["schema"] = plain(p.get("schema", {}))
        name = p["name"]
        if p.get("in") == "query":
            kind = kind_of(path)
            blank_ok = name == "f" or name in BLANK_IS_ABSENT.get(kind, ()) or (kind == "features" and name not in
                                                                                FEATURES_BLANK_IS_400)
            if blank_ok and not p.get("required"):
                p["allowEmptyValue"] = True
            elif p["schema"].get("type") == "string" and "enum" not in p["schema"]:
                p["schema"] = {**p["schema"], "minLength": 1}
            if name == "f" and f_values:
                p["schema"] = {"type": "string", "enum": list(f_values)}
            elif name == "bbox" and p["schema"].get("type") == "string":
                p["schema"] = {**p["schema"], "pattern": BBOX_PATTERN}
        out.append(p)
    return out
