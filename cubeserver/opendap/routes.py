"""`/collections/{id}/opendap.{dds,das,dods,ascii,html,dmr,dap}`: parse the constraint, guard the size, encode.

The dataset URL a client is given is `/collections/{id}/opendap`; DAP2 clients (netCDF-C,
pydap, netCDF-Java) append `.dds`, `.das`, `.dods`, DAP4 clients `.dmr` (or `.dmr.xml`) and
`.dap`. Errors are answered in the protocol's own error format (DAP2 `Error { code; message; }`,
DAP4 `<Error>`) with the HTTP status every other API of this server gives (400, 404, 413, 503).
Private collections are found through the registry like everywhere else (404 when hidden); the
auth layer answers 401/403 before these routes run.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from .. import __version__
from ..budget import book_answer
from ..context import AppContext, run_blocking
from ..sources.unavailable import unavailable
from ..errors import APIError, ServerError, TooLarge
from . import encode, text
from .constraint import PARAM, Hyperslab, parse_dap2, parse_dap4
from .form import form_page, form_redirect
from .model import DapDataset, ModelCache

log = logging.getLogger("cubeserver.opendap")

DAP2_HEADERS = {"XDODS-Server": f"cubeserver/{__version__}", "XOPeNDAP-Server": f"cubeserver/{__version__}",
                "XDAP": "2.0"}
DMR_MEDIA = "application/vnd.opendap.dap4.dataset-metadata+xml"
DAP_MEDIA = "application/vnd.opendap.dap4.data"
DAP4_ERROR_MEDIA = "application/vnd.opendap.dap4.error+xml"


class OpendapService:
    """Per-collection DAP models (cached) and the size guard, shared by the routes."""

    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        self.models = ModelCache()

    def model(self, cid: str) -> DapDataset:
        """The collection's DAP model, built on first use (it reads one value of each variable to learn its
        encoding): a source that cannot be read then is the 503 or 500 every other API gives, as a DAP error."""
        collection = self.ctx.registry.gridded(cid)
        try:
            return self.models.get(collection)
        except APIError:
            raise
        except Exception as exc:
            err = unavailable(exc, self.ctx.config, cid)
            if err is None:
                log.exception("opendap: cannot describe collection %r", cid)
                raise ServerError() from exc
            log.warning("opendap: %s", err.detail)
            raise err from exc

    def guarded(self, cid: str, query: str, dap4: bool, data: bool = True) -> tuple[DapDataset, list[Hyperslab], bool]:
        """The model, the hyperslabs asked for, and whether DAP4 checksums are wanted; 400/404 as APIError, and
        for `data` answers 413 over `limits.max_cells` (the size is then booked on the memory budget)."""
        model = self.model(cid)
        checksums = False
        if dap4:
            params = parse_qs(query, keep_blank_values=True)
            ce = params.get("dap4.ce", [None])[0]
            checksums = params.get("dap4.checksum", ["true"])[0].strip().lower() == "true"
            slabs = parse_dap4(ce, model)
        else:
            slabs = parse_dap2(query, model)
        n = sum(s.size for s in slabs)
        if not data:
            return model, slabs, checksums
        limit = self.ctx.config.limits.max_cells
        if n > limit:
            raise TooLarge(f"the constraint selects {n:,} values, more than this server's limit of {limit:,}; "
                           "ask for fewer variables or smaller hyperslabs (var[start:stride:stop] on each dimension)",
                           parameter=PARAM)
        book_answer(n, max((model.variables[s.name].variable.dtype.itemsize for s in slabs), default=8))
        return model, slabs, checksums


def _query(request: Request) -> str:
    return request.scope.get("query_string", b"").decode("latin-1")


def _dap2_error(err: APIError) -> Response:
    return Response(text.dap2_error(err.status, err.detail), status_code=err.status, media_type="text/plain",
                    headers={**DAP2_HEADERS, "Content-Description": "dods-error", **(err.headers or {})})


def _dap4_error(err: APIError) -> Response:
    return Response(text.dap4_error(err.status, err.detail), status_code=err.status, media_type=DAP4_ERROR_MEDIA,
                    headers=err.headers or {})


def _logged(chunks, what: str):
    """Pass a body through; a failure after the answer started can only be logged (the client sees a cut)."""
    try:
        yield from chunks
    except Exception:
        log.exception("opendap: %s failed while streaming", what)
        raise


def _dap4_logged(chunks, what: str):
    """Pass a DAP4 body through; a failure after the answer started ends it with a DAP4 error chunk (the
    protocol's way to say the answer is incomplete; netCDF-C and pydap then fail the read) instead of a cut.
    Every chunk passed on before it is whole."""
    try:
        yield from chunks
    except Exception as e:
        log.exception("opendap: %s failed while streaming", what)
        message = (f"reading the data failed after the answer had started ({type(e).__name__}); "
                   "the answer is incomplete: try again, or ask for a smaller hyperslab")
        yield encode.dap4_error_chunk(text.dap4_error(500, message))


def _batched(pieces, size: int = 1 << 16):
    """Byte pieces joined into messages of about `size` bytes: one `.ascii` line per ASGI message cost a thread
    hop and a pass through every middleware each (5 s for a 43,828-step series)."""
    buf, n = [], 0
    for piece in pieces:
        buf.append(piece)
        n += len(piece)
        if n >= size:
            yield b"".join(buf)
            buf, n = [], 0
    if buf:
        yield b"".join(buf)


def build_router(ctx: AppContext, service: OpendapService) -> APIRouter:
    # not in the OpenAPI document: DAP is its own protocol (DAP 2.0 / DAP4 specifications), its errors are DAP
    # documents rather than the OGC exception JSON, and clients find it by the dataset URL, not by OpenAPI
    r = APIRouter(tags=["OPeNDAP"], include_in_schema=False)
    base = "/collections/{collectionId}/opendap"

    @r.get(base + ".dds", summary="DAP2 Dataset Descriptor Structure (constraint expression applies)")
    async def get_dds(collectionId: str, request: Request):
        try:
            model, slabs, _ = await run_blocking(service.guarded, collectionId, _query(request), False, False)
        except APIError as err:
            return _dap2_error(err)
        return Response(text.dds(model, slabs), media_type="text/plain",
                        headers={**DAP2_HEADERS, "Content-Description": "dods-dds"})

    @r.get(base + ".das", summary="DAP2 Dataset Attribute Structure")
    async def get_das(collectionId: str):
        try:
            model = await run_blocking(service.model, collectionId)
        except APIError as err:
            return _dap2_error(err)
        return Response(text.das(model), media_type="text/plain",
                        headers={**DAP2_HEADERS, "Content-Description": "dods-das"})

    @r.get(base + ".dods", summary="DAP2 data (XDR), streamed; ?var[start:stride:stop] hyperslabs")
    async def get_dods(collectionId: str, request: Request):
        try:
            model, slabs, _ = await run_blocking(service.guarded, collectionId, _query(request), False)
        except APIError as err:
            return _dap2_error(err)
        body = encode.dods(text.dds(model, slabs), model.variables, slabs)
        return StreamingResponse(_logged(body, f"{collectionId}.dods"), media_type="application/octet-stream",
                                 headers={**DAP2_HEADERS, "Content-Description": "dods-data"})

    async def _ascii(collectionId: str, request: Request):
        try:
            model, slabs, _ = await run_blocking(service.guarded, collectionId, _query(request), False)
        except APIError as err:
            return _dap2_error(err)
        head = f"Dataset: {model.name}\n"
        body = _batched(line.encode("utf-8") for part in ([head], encode.ascii_rows(model.variables, slabs))
                        for line in part)
        return StreamingResponse(_logged(body, f"{collectionId}.ascii"), media_type="text/plain",
                                 headers={**DAP2_HEADERS, "Content-Description": "dods-data"})

    r.add_api_route(base + ".ascii", _ascii, methods=["GET"], summary="DAP2 data as comma-separated text")
    r.add_api_route(base + ".asc", _ascii, methods=["GET"], include_in_schema=False)

    async def _form(collectionId: str, request: Request):
        try:
            model = await run_blocking(service.model, collectionId)
            target = form_redirect(model, request.query_params)
        except APIError as err:
            return _dap2_error(err)
        if target is not None:
            return Response(status_code=303, headers={"Location": f"{ctx.base_url(request)}/collections/"
                                                                  f"{collectionId}/opendap{target}"})
        c = ctx.registry.gridded(collectionId)
        url = f"{ctx.base_url(request)}/collections/{collectionId}/opendap"
        return Response(form_page(model, c.title, url), media_type="text/html")

    r.add_api_route(base, _form, methods=["GET"], summary="OPeNDAP dataset URL: the request form (HTML)")
    r.add_api_route(base + ".html", _form, methods=["GET"], summary="DAP2 request form (HTML)")

    async def _dmr(collectionId: str, request: Request):
        try:
            model, slabs, _ = await run_blocking(service.guarded, collectionId, _query(request), True, False)
        except APIError as err:
            return _dap4_error(err)
        return Response(text.dmr(model, slabs), media_type=DMR_MEDIA)

    r.add_api_route(base + ".dmr", _dmr, methods=["GET"], summary="DAP4 Dataset Metadata Response")
    r.add_api_route(base + ".dmr.xml", _dmr, methods=["GET"], include_in_schema=False)

    @r.get(base + ".dap", summary="DAP4 data (chunked, little-endian), streamed; ?dap4.ce=/var[start:stride:stop]")
    async def get_dap(collectionId: str, request: Request):
        try:
            model, slabs, checksums = await run_blocking(service.guarded, collectionId, _query(request), True)
        except APIError as err:
            return _dap4_error(err)
        body = encode.dap(text.dmr(model, slabs), model.variables, slabs, checksums)
        return StreamingResponse(_dap4_logged(body, f"{collectionId}.dap"), media_type=DAP_MEDIA)

    return r


__all__ = ["OpendapService", "build_router"]
