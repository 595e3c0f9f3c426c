"""What each operation answers: its statuses, and per success status its media types and schemas.

One `Op` per (method, path template) of the routers. The statuses are those the code can send:
- 200 (201/204 where the route sends them), 304 on every GET (cubeserver.http.conditional answers
  If-None-Match / If-Modified-Since), and the exception classes of cubeserver.errors: 400
  BadRequest (a bad or unknown parameter), 404 NotFound (a path id that does not exist), 406
  NotAcceptable (an Accept header no format satisfies), 413 TooLarge (an answer over the size
  limits), 500 (the catch-all handler).
- every request can also be refused before any router: 400 (a Host not in http.trusted_hosts),
  414 (URL too long, cubeserver.http.limits); a POST 413 (body too large) and 415 (not JSON).
- the format keys come from `formats`, i.e. from the tables the routes negotiate with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import formats as fm
from .schemas import ref

JSON_HTML = ["json", "html"]
EDR_QUERIES = ("position", "area", "cube", "radius", "trajectory", "corridor")

# a no-data answer: a data query whose selection is valid but holds nothing (EDR 1.1 /req/core/...)
NO_DATA = "no data in the selection (the query is valid; nothing matches)"


@dataclass
class Op:
    """The answers of one operation.

    `ok`: {status: content map} for the success statuses (an empty map: no body);
    `errors`: the 4xx/5xx statuses, each with the exception body;
    `f`: the values `f` accepts (None: the operation has no `f`).
    """

    ok: dict[int, dict]
    errors: tuple[int, ...]
    f: list[str] | None = None
    not_modified: bool = True
    notes: dict[int, str] = field(default_factory=dict)


def _page(json_body: dict, *, errors=(400, 406, 500)) -> Op:
    return Op({200: fm.content(JSON_HTML, json_body)}, errors, fm.f_values(JSON_HTML))


def _edr_query(qtype: str) -> Op:
    keys = fm.edr_keys(qtype)
    return Op({200: fm.content(keys), 204: {}}, (400, 404, 406, 413, 500), fm.f_values(keys, json_means="covjson"),
              notes={204: NO_DATA})


def operations(process_media: list[str]) -> dict[tuple[str, str], Op]:
    """{(method, path): Op} for every documented route; `process_media` are the processes' output media types."""
    ops: dict[tuple[str, str], Op] = {
        ("get", "/"): _page(ref("edr.core.landingPage")),
        ("get", "/conformance"): _page(ref("edr.core.confClasses")),
        ("get", "/collections"): _page(ref("Collections")),
        ("get", "/collections/{collectionId}"): _page(ref("Collection"), errors=(400, 404, 406, 500)),
        ("get", "/openapi"): Op({200: {fm.media("openapi"): {"schema": {"type": "object"}}, "text/html": {"schema": fm.HTML}},
                                 307: {}}, (400, 406, 500), ["json", "openapi", "html"],
                                notes={307: "f=html (or a browser's Accept): redirect to the interactive documentation /docs"}),
    }
    for q in EDR_QUERIES:
        ops[("get", f"/collections/{{collectionId}}/{q}")] = _edr_query(q)
        ops[("get", f"/collections/{{collectionId}}/instances/{{instanceId}}/{q}")] = _edr_query(q)
    loc_keys = fm.location_keys()
    geojson_list = {"application/geo+json": {"schema": ref("edr.edr-geojson.edrFeatureCollectionGeoJSON")}}
    for prefix in ("/collections/{collectionId}", "/collections/{collectionId}/instances/{instanceId}"):
        ops[("get", f"{prefix}/locations")] = Op({200: geojson_list}, (400, 404, 406, 500), fm.f_values(["geojson", "json"]))
        ops[("get", f"{prefix}/locations/{{locationId}}")] = Op(
            {200: fm.content(loc_keys), 204: {}}, (400, 404, 406, 413, 500), fm.f_values(loc_keys, json_means="covjson"),
            notes={204: NO_DATA})
    ops[("get", "/collections/{collectionId}/instances")] = Op(
        {200: fm.content(["json"], ref("edr.queries.instances"))}, (400, 404, 406, 500), ["json"])
    ops[("get", "/collections/{collectionId}/instances/{instanceId}")] = Op(
        {200: fm.content(["json"], ref("edr.collections.collection"))}, (400, 404, 406, 500), ["json"])

    cov = fm.coverage_keys()
    ops[("get", "/collections/{collectionId}/coverage")] = Op(
        {200: fm.content(cov), 204: {}}, (400, 404, 406, 413, 500), fm.f_values(cov, json_means="covjson"),
        notes={204: NO_DATA})
    ops[("get", "/collections/{collectionId}/coverage/domainset")] = Op(
        {200: fm.content(["json"], ref("CISDomainSet"))}, (400, 404, 406, 500), ["json"])
    ops[("get", "/collections/{collectionId}/coverage/rangetype")] = Op(
        {200: fm.content(["json"], ref("CISRangeType"))}, (400, 404, 406, 500), ["json"])
    ops[("get", "/collections/{collectionId}/schema")] = Op(
        {200: {fm.SCHEMA_JSON: {"schema": ref("JSONSchema")}}}, (400, 404, 406, 500),
        ["json", "schema+json", fm.SCHEMA_JSON])

    maps = fm.map_keys()  # OGC API - Maps (cubeserver.maps)
    for path in ("/collections/{collectionId}/map", "/collections/{collectionId}/styles/{styleId}/map"):
        ops[("get", path)] = Op({200: fm.content(maps)}, (400, 404, 406, 413, 500), fm.f_values(maps),
                                notes={404: "no such collection or style, or a Features collection"})
    ops[("get", "/collections/{collectionId}/styles")] = Op(
        {200: fm.content(["json"], ref("MapStyles"))}, (400, 404, 406, 500), ["json"])
    ops[("get", "/collections/{collectionId}/styles/{styleId}/legend")] = Op(
        {200: fm.content(["png", "json"], ref("Legend"))}, (400, 404, 406, 500), fm.f_values(["png", "json"]))

    items = {"application/geo+json": {"schema": ref("features.featureCollectionGeoJSON")}, "text/html": {"schema": fm.HTML}}
    item = {"application/geo+json": {"schema": ref("features.featureGeoJSON")}, "text/html": {"schema": fm.HTML}}
    ops[("get", "/collections/{collectionId}/items")] = Op({200: items}, (400, 404, 406, 500),
                                                          fm.f_values(["geojson", "html", "json"]))
    ops[("get", "/collections/{collectionId}/items/{featureId}")] = Op({200: item}, (400, 404, 406, 500),
                                                                      fm.f_values(["geojson", "html", "json"]))
    ops[("get", "/collections/{collectionId}/queryables")] = Op(
        {200: {fm.SCHEMA_JSON: {"schema": ref("JSONSchema")}, "text/html": {"schema": fm.HTML}}},
        (400, 404, 406, 500), fm.f_values(JSON_HTML))

    outputs = {mt: {"schema": ref("ProcessOutput")} for mt in process_media}
    outputs["application/json"] = {"schema": {"anyOf": [ref("processes.results"), ref("ProcessOutput")]}}
    ops[("get", "/processes")] = _page(ref("processes.processList"))
    ops[("get", "/processes/{processId}")] = _page(ref("processes.process"), errors=(400, 404, 406, 500))
    ops[("post", "/processes/{processId}/execution")] = Op(
        {200: outputs, 201: {"application/json": {"schema": ref("processes.statusInfo")}}, 204: {}},
        (400, 404, 413, 500), None, not_modified=False,
        notes={200: "response=document: the results document; response=raw: the one output as itself",
               201: "Prefer: respond-async: the job was created (Location: its status)",
               204: "response=raw with an output by reference: the Link header points at it",
               500: "the process failed (its own exception; a failed job can also answer 400 or 413)"})
    ops[("get", "/jobs")] = _page(ref("processes.jobList"))
    ops[("get", "/jobs/{jobId}")] = _page(ref("processes.statusInfo"), errors=(400, 404, 406, 500))
    ops[("delete", "/jobs/{jobId}")] = Op({200: {"application/json": {"schema": ref("processes.statusInfo")}}},
                                          (404, 500), None, not_modified=False)
    ops[("get", "/jobs/{jobId}/results")] = Op(
        {200: {"application/json": {"schema": ref("processes.results")}}}, (400, 404, 413, 500), None,
        notes={404: "no such job, or its results are not ready (result-not-ready) or were dismissed",
               500: "the job failed: its stored exception (a failed job can also answer 400 or 413)"})
    ops[("get", "/jobs/{jobId}/results/{outputId}")] = Op(
        {200: {mt: {"schema": ref("ProcessOutput")} for mt in process_media}}, (400, 404, 413, 500), None,
        notes={500: "the job failed: its stored exception (a failed job can also answer 400 or 413)"})

    ops[("get", "/collections/{collectionId}/zarr")] = Op(
        {200: {"application/json": {"schema": ref("ZarrStore")}}}, (404, 500), None)
    ops[("get", "/collections/{collectionId}/zarr/{key}")] = Op(
        {200: {"application/json": {"schema": ref("ZarrDocument")}, fm.ZARR_CHUNK: {"schema": fm.BINARY}}},
        (404, 500), None, notes={200: "a metadata document (JSON) or a compressed chunk (octet-stream)"})

    from .tiles import operations as tile_operations

    ops.update(tile_operations(Op))
    health = {"application/health+json": {"schema": ref("Health")}, "text/html": {"schema": fm.HTML},
              "text/plain": {"schema": ref("Text")}}
    probe_f = fm.f_values(["health", "html", "text"], json_means="health")
    ops[("get", "/health")] = Op({200: health}, (400, 406, 500), probe_f)
    ops[("get", "/ready")] = Op({200: health, 503: health}, (400, 406, 500), probe_f,
                                notes={503: "not ready: a collection or the job store fails (see `checks`)"})
    ops[("get", "/collections/{collectionId}/events")] = Op(
        {200: {"text/event-stream": {"schema": ref("Text")}}}, (404, 406, 500, 503), None, not_modified=False,
        notes={200: "Server-Sent Events: `collection-updated` with the collection's new extent (cubeserver.live)"})
    reloaded = {"type": "object", "required": ["version", "reloaded", "unchanged", "unavailable"], "properties": {
        "version": {"type": "integer"}, **{k: {"type": "array", "items": {"type": "string"}}
                                           for k in ("reloaded", "unchanged", "unavailable")}}}
    ops[("post", "/admin/reload")] = Op({200: {"application/json": {"schema": reloaded}}}, (400, 401, 403, 404, 500),
                                        None, not_modified=False,
                                        notes={403: "no identity with auth.admin_role (or no auth section)"})
    ops[("get", "/metrics")] = Op({200: {"text/plain": {"schema": ref("Text")},
                                         "application/openmetrics-text": {"schema": ref("Text")}}}, (406, 500), None)
    return ops
