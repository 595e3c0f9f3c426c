"""Per-collection path entries: `/collections/coads/position` etc., with that collection's parameters.

The generic `/collections/{collectionId}/...` entries serve every collection (including ones added
later); a concrete entry per gridded collection (OpenAPI 3.0 matches concrete paths first) tells a
client what the template cannot: its extra dimensions (e.g. `month` on eraint) as query parameters,
`parameter-name` as a list of its variables, and no `z`/`datetime` where it has no such axis.
"""

from __future__ import annotations

import copy

from ..edr import instances
from ..registry import Collection

# the templates specialised per gridded collection (instances ones only for collections with instances)
TEMPLATES = [f"/collections/{{collectionId}}/{q}" for q in
             ("position", "area", "cube", "radius", "trajectory", "corridor", "coverage", "coverage/domainset",
              "coverage/rangetype", "schema", "zarr", "map", "styles")]
LOCATIONS = ["/collections/{collectionId}/locations", "/collections/{collectionId}/locations/{locationId}"]
INSTANCES = ["/collections/{collectionId}/instances", "/collections/{collectionId}/instances/{instanceId}"] + [
    f"/collections/{{collectionId}}/instances/{{instanceId}}/{q}" for q in
    ("position", "area", "cube", "radius", "trajectory", "corridor", "locations", "locations/{locationId}")]


def templates_for(c: Collection) -> list[str]:
    out = list(TEMPLATES)
    if c.config.locations:
        out += LOCATIONS
    if instances.has_instances(c):
        out += INSTANCES
    return out


def dimension_parameter(c: Collection, dim: str) -> dict:
    values = c.ds[dim].values if dim in c.ds.coords else None
    listed = ""
    if values is not None and values.size:
        shown = ", ".join(str(v) for v in values[:12]) + (", ..." if values.size > 12 else "")
        listed = f"; values: {shown}"
    return {"name": dim, "in": "query", "required": False, "schema": {"type": "string"}, "allowEmptyValue": True,
            "description": f"extra dimension `{dim}`: a value, a list a,b, or a range low/high{listed}"}


def specialise(op: dict, c: Collection, template: str) -> dict:
    """A copy of the generic operation `op` for collection `c` (no collectionId; its own parameters)."""
    op = copy.deepcopy(op)
    op["operationId"] = f"{op.get('operationId', template)}__{c.id}"
    op["summary"] = f"{op.get('summary', '')} ({c.id})"
    ax = c.axes
    is_query = not template.endswith(("/zarr", "/schema", "/domainset", "/rangetype", "/instances", "/{instanceId}",
                                      "/locations", "/styles"))
    params = []
    for p in op.get("parameters", []):
        name, where = p.get("name"), p.get("in")
        if where == "path" and name == "collectionId":
            continue
        if is_query and where == "query" and ((name == "z" and ax.z is None) or (name == "datetime" and ax.t is None)):
            continue
        if where == "query" and name in ("parameter-name", "properties") and c.variables and \
                not template.endswith(("/zarr", "/schema", "/domainset", "/rangetype")):
            p = {**p, "schema": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(c.variables)}},
                 "style": "form", "explode": False}
            if template.endswith("/map"):  # a map shows one field
                p["schema"]["maxItems"] = 1
        params.append(p)
    if is_query and not template.endswith("/map"):  # maps take extra dimensions in `subset`
        params += [dimension_parameter(c, d) for d in ax.others]
    op["parameters"] = params
    return op


def add(spec: dict, collections: list[Collection]) -> None:
    """Add the concrete entries to `spec["paths"]` (in place), after the generic ones."""
    paths = spec["paths"]
    for c in collections:
        for template in templates_for(c):
            generic = paths.get(template)
            if not generic:
                continue
            concrete = template.replace("{collectionId}", c.id)
            paths[concrete] = {m: specialise(op, c, template) for m, op in generic.items()}
