"""The execute request and response rules of OGC API - Processes 1.0.

Request: `{"inputs", "outputs", "response"}`; `Prefer: respond-async` makes it a job.
Response (sync): `document` -> JSON of every requested output; `raw` -> one output's
content, or 204 with Link headers when it is sent by reference.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import orjson
from fastapi.responses import FileResponse, Response, StreamingResponse

from ..context import json_response
from ..errors import APIError, BadRequest
from . import results
from .base import Process
from .storage import JobFiles
from .store import Job


def parse_body(raw: bytes) -> dict:
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("the execute request is not valid JSON", parameter="body") from None
    if not isinstance(body, dict):
        raise BadRequest("the execute request must be a JSON object with 'inputs'", parameter="body")
    return body


def resolve_references(inputs: dict, base: str, jobs) -> dict:
    """Inputs given by reference (`{"href": ...}`, /req/core/process-execute-inputs B) to this server's own
    job outputs (`{base}/jobs/{jobId}/results/{outputId}`) replaced by the stored values.

    Only this server's finished JSON/text outputs are resolved: the server never fetches other URLs
    (that would let a request make it call arbitrary hosts). Any other reference is left as is and
    refused by the input checks with a 400 naming the input. A reference to a job that does not
    exist, is not finished or has no such output is a 400 naming the input.
    """
    if not isinstance(inputs, dict):
        return inputs
    prefix = f"{base}/jobs/"
    out = {}
    for name, value in inputs.items():
        if isinstance(value, list):
            out[name] = [_resolve_one(v, name, prefix, jobs) for v in value]
        else:
            out[name] = _resolve_one(value, name, prefix, jobs)
    return out


def _resolve_one(value, name: str, prefix: str, jobs):
    if not (isinstance(value, dict) and isinstance(value.get("href"), str) and value["href"].startswith(prefix)):
        return value
    parts = value["href"][len(prefix):].split("?", 1)[0].split("/")
    if len(parts) != 3 or parts[1] != "results":
        return value
    job_id, oid = parts[0], parts[2]
    try:
        job = jobs.get(job_id)
    except APIError:
        raise BadRequest(f"{name}: {value['href']} names no job of this server", parameter=name) from None
    entry = job.results.get(oid) if job.status == "successful" else None
    if entry is None:
        raise BadRequest(f"{name}: {value['href']} is not a finished output (job {job_id} is {job.status})",
                         parameter=name)
    if entry["kind"] == "value":
        return entry["value"]
    if entry["kind"] == "file" and entry["mediaType"] in ("application/json", "application/geo+json", "text/plain",
                                                         "text/csv"):
        return results.read_value(entry, jobs.files(job_id)) if entry["mediaType"] == "application/json" \
            else jobs.files(job_id).read_bytes(entry["file"]).decode()
    raise BadRequest(f"{name}: {value['href']} is a gridded result; pass its collection id "
                     f"(job-{job_id}) instead", parameter=name)


def request_options(process: Process, body: dict) -> dict:
    """Validated `outputs` (id -> transmissionMode, mediaType) and `response` of an execute request.

    `subscriber` (callbacks, /req/callback/job-callback) is refused with a 400: this server does not
    declare the callback class (it would make the server POST to client-chosen URLs); poll
    /jobs/{jobId} instead. A request that asked for callbacks must not silently get none.
    """
    if body.get("subscriber") is not None:
        raise BadRequest("subscriber: callbacks are not supported by this server; run with "
                         "'Prefer: respond-async' and poll the job's Location (/jobs/{jobId})", parameter="subscriber")
    response = body.get("response", "raw")
    if response not in ("raw", "document"):
        raise BadRequest("response: must be 'raw' or 'document'", parameter="response")
    asked = body.get("outputs")
    if asked is None:
        asked = {k: {} for k in process.outputs}
    if not isinstance(asked, dict) or not asked:
        raise BadRequest("outputs: expected an object mapping output ids to options", parameter="outputs")
    outputs = {}
    for oid, opts in asked.items():
        if oid not in process.outputs:
            raise BadRequest(f"outputs: {oid!r} is not an output of {process.id}; outputs are "
                             f"{', '.join(process.outputs)}", parameter="outputs")
        opts = opts if isinstance(opts, dict) else {}
        mode = opts.get("transmissionMode")
        if mode not in (None, "value", "reference"):
            raise BadRequest(f"outputs.{oid}.transmissionMode: must be 'value' or 'reference'", parameter="outputs")
        fmt = (opts.get("format") or {}).get("mediaType") if isinstance(opts.get("format"), dict) else None
        formats = process.output_formats(oid)
        if fmt is not None and fmt not in formats:
            raise BadRequest(f"outputs.{oid}.format: {fmt!r} is not offered; formats are {', '.join(formats)}",
                             parameter="outputs")
        outputs[oid] = {"transmissionMode": mode, "mediaType": fmt}
    return {"outputs": outputs, "response": response}


def _mode(entry: dict, asked: dict) -> str:
    """The transmission mode: as asked, else by reference for gridded results and by value for the rest."""
    return asked.get("transmissionMode") or ("reference" if entry["kind"] == "coverage" else "value")


def output_href(base: str, job: Job, oid: str) -> str:
    return f"{base}/jobs/{job.id}/results/{oid}"


def results_document(job: Job, base: str, files: JobFiles) -> dict:
    doc = {}
    asked = (job.request or {}).get("outputs") or {k: {} for k in job.results}
    for oid, opts in asked.items():
        entry = job.results.get(oid)
        if entry is None:
            continue
        mode = _mode(entry, opts)
        value = results.document_entry(entry, mode, output_href(base, job, oid))
        if value is None:
            value = results.read_value(entry, files)
        elif mode == "value" and entry["mediaType"] not in ("application/json", "text/plain", "application/geo+json"):
            value = {"value": value, "mediaType": entry["mediaType"]}
        if mode == "value" and entry["mediaType"] in JSON_TYPES and isinstance(value, dict):
            # an object is not an inline value in results.yaml (inlineOrRefData: inputValueNoObject,
            # qualifiedInputValue or link): it goes as a qualified value with its media type
            value = {"value": value, "mediaType": entry["mediaType"]}
        doc[oid] = value
    return doc


JSON_TYPES = ("application/json", "application/geo+json")


def raw_response(job: Job, base: str, files: JobFiles) -> Response:
    """Sync `response: raw`: the single requested output as itself (204 + Link when by reference)."""
    asked = (job.request or {}).get("outputs") or {k: {} for k in job.results}
    if len(asked) != 1:
        return json_response(results_document(job, base, files))
    ((oid, opts),) = asked.items()
    entry = job.results[oid]
    if _mode(entry, opts) == "reference":
        href = output_href(base, job, oid)
        return Response(status_code=204, headers={"Link": f'<{href}>; rel="{oid}"; type="{entry["mediaType"]}"'})
    return output_content(entry, files, oid)


def output_content(entry: dict, files: JobFiles, oid: str) -> Response:
    """One output's own content, with its media type: a local file as itself (with Range support), a
    remote one streamed in READ_BLOCK pieces (never read whole into memory)."""
    if entry["kind"] == "value":
        value = entry["value"]
        if entry["mediaType"] == "text/plain" and isinstance(value, str):
            return Response(value, media_type="text/plain; charset=utf-8")
        return json_response(value, media_type=entry["mediaType"])
    name = entry["file"]
    filename = f"{oid}{PurePosixPath(name).suffix}"
    path = files.path(name)
    if path is not None:
        return FileResponse(path, media_type=entry["mediaType"], filename=filename)
    size = files.size(name)  # before the status line: a vanished object is an error, not a truncated 200
    return StreamingResponse(files.chunks(name), media_type=entry["mediaType"], headers={
        "Content-Length": str(size), "Content-Disposition": f'attachment; filename="{filename}"'})
