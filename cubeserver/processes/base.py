"""The process contract: a description (inputs/outputs as JSON Schema), validate, execute.

`validate` runs in the request, before a job exists, so a bad input is a 400 naming
it and nothing is queued. It returns the parameters `execute` needs (often the lazy
computation itself). `execute` runs in a job thread and may use `job.compute` to run
lazy dask work on the cluster with progress and cancellation.
"""

from __future__ import annotations

from typing import Any

from ..errors import APIError, BadRequest
from .schema import check

EXECUTE_REL = "http://www.opengis.net/def/rel/ogc/1.0/execute"


class Process:
    id: str = ""
    title: str = ""
    description: str = ""
    version: str = "1.0.0"
    keywords: list[str] = []
    inputs: dict[str, dict] = {}  # id -> {title, description, schema, minOccurs, maxOccurs}
    outputs: dict[str, dict] = {}  # id -> {title, description, schema, formats?}
    uses_dask = False  # True when execute sends work to the cluster

    # ------------------------------------------------------------ description

    def summary(self, base: str) -> dict:
        href = f"{base}/processes/{self.id}"
        return {
            "id": self.id, "title": self.title, "description": self.description, "version": self.version,
            "keywords": self.keywords,
            "jobControlOptions": ["sync-execute", "async-execute", "dismiss"],
            "outputTransmission": ["value", "reference"],
            "links": [
                {"href": href, "rel": "self", "type": "application/json", "title": "process description"},
                {"href": f"{href}?f=html", "rel": "alternate", "type": "text/html", "title": "process description as HTML"},
                {"href": f"{href}/execution", "rel": EXECUTE_REL, "type": "application/json", "title": "execute"},
            ],
        }

    def describe(self, base: str) -> dict:
        doc = self.summary(base)
        doc["inputs"] = {k: {"minOccurs": 1 if v.get("required") else 0, "maxOccurs": 1, **_public(v)}
                         for k, v in self.inputs.items()}
        doc["outputs"] = {k: _public(v) for k, v in self.outputs.items()}
        return doc

    def output_formats(self, output_id: str) -> list[str]:
        return self.outputs[output_id].get("formats", ["application/json"])

    # ------------------------------------------------------------ validation

    def validate(self, raw: dict, ctx) -> Any:
        """Schema checks for every input (400 naming it), then the process's own checks."""
        if not isinstance(raw, dict):
            raise BadRequest("inputs: expected an object mapping input ids to values", parameter="inputs")
        unknown = [k for k in raw if k not in self.inputs]
        if unknown:
            raise BadRequest(f"{unknown[0]}: not an input of {self.id}; inputs are {', '.join(self.inputs)}",
                             parameter=unknown[0])
        values = {}
        for name, spec in self.inputs.items():
            if name not in raw or raw[name] is None:
                if spec.get("required"):
                    raise BadRequest(f"{name}: missing required input of {self.id}", parameter=name)
                values[name] = spec["schema"].get("default")
                continue
            value = unwrap(raw[name], name, spec["schema"])
            check(value, spec["schema"], name)
            values[name] = value
        return self.check(values, ctx)

    def check(self, values: dict, ctx) -> Any:
        """Process-specific checks (collections, variables, sizes); returns execute's parameters."""
        return values

    def execute(self, params: Any, job) -> dict:
        """Return {output id: results.Output}."""
        raise NotImplementedError


def unwrap(value, name: str, schema: dict):
    """Accept plain values and qualified values ({"value": ..., "mediaType": ...}); refuse references."""
    if isinstance(value, dict):
        if "href" in value and "type" not in value:
            raise BadRequest(f"{name}: only references to this server's job outputs (/jobs/{{jobId}}/results/"
                             "{outputId}) are accepted; pass other values inline", parameter=name)
        if "value" in value and set(value) <= {"value", "mediaType", "encoding", "schema"}:
            return value["value"]
    return value


def _public(spec: dict) -> dict:
    return {k: v for k, v in spec.items() if k not in ("required",)}


def failure_body(exc: BaseException) -> dict:
    """The stored error of a failed job: the APIError's body, or a generic server error."""
    if isinstance(exc, APIError):
        return exc.body()
    from ..errors import OGC_EXC

    return {"type": f"{OGC_EXC}/ServerError", "title": "Job failed", "status": 500,
            "detail": f"the computation failed: {type(exc).__name__}"}
