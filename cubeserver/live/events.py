"""`GET /collections/{collectionId}/events`: Server-Sent Events saying when a collection changed (issue 16).

Each reload that swaps a collection in (`Registry.reload`) sends one `collection-updated` event to the
streams of that collection: `data` is JSON {collection, version, extent: {spatial: {bbox}, temporal:
{interval}}, instances (reference times, when the collection has them)}. A stream starts with a
`retry` line and a comment (so proxies and the middleware pass the headers on at once), sends a
comment every `live.heartbeat_s` and ends after `live.stream_s` (clients reconnect by themselves:
the server can then shut down without waiting on open streams). Never compressed (http/compression).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse


class EventHub:
    """Fans registry swaps out to the open streams (each an asyncio queue on its own event loop)."""

    def __init__(self):
        self._streams: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = {}
        self._lock = threading.Lock()

    def subscribe(self, cid: str) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=100)
        with self._lock:
            self._streams.setdefault(cid, []).append((asyncio.get_running_loop(), q))
        return q

    def unsubscribe(self, cid: str, q: asyncio.Queue) -> None:
        with self._lock:
            self._streams[cid] = [(lp, x) for lp, x in self._streams.get(cid, []) if x is not q]

    def publish(self, collection) -> None:
        """Called by the registry (any thread) with the collection just swapped in."""
        event = {"collection": collection.id, "version": collection.version, "extent": extent(collection)}
        instances = _instances(collection)
        if instances is not None:
            event["instances"] = instances
        with self._lock:
            targets = list(self._streams.get(collection.id, []))
        for loop, q in targets:
            try:
                loop.call_soon_threadsafe(_offer, q, event)
            except RuntimeError:  # that stream's loop is closed
                self.unsubscribe(collection.id, q)


def _offer(q: asyncio.Queue, event: dict) -> None:
    if not q.full():  # a client that does not read loses events, never the server memory
        q.put_nowait(event)


def extent(c) -> dict:
    if c.axes is None:
        return {"spatial": {"bbox": [list(c.features.bbox)]}} if c.features is not None else {}
    out = {"spatial": {"bbox": [[round(v, 6) for v in c.axes.crs84_bbox()]], "crs":
                       "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    interval = c.axes.time_interval()
    if interval:
        out["temporal"] = {"interval": [interval]}
    return out


def _instances(c) -> list[str] | None:
    ref = c.config.reference_time
    if c.ds is None or not ref or ref not in c.ds.coords:
        return None
    from ..axes import iso_times

    return list(iso_times(c.ds[ref].values))


def router(ctx, hub: EventHub) -> APIRouter:
    r = APIRouter()
    live = ctx.config.live

    @r.get("/collections/{collectionId}/events", summary="Server-Sent Events: collection-updated when the data change",
           tags=["Notifications"], response_class=StreamingResponse)
    async def events(collectionId: str, request: Request):  # noqa: N803 - the OGC path parameter name
        ctx.registry.get(collectionId)  # 404 (also for a private one), 503 for an unavailable store
        _check_accept(request.headers.get("accept", ""))
        q = hub.subscribe(collectionId)

        async def stream():
            try:
                yield f"retry: 3000\n: events of {collectionId}\n\n".encode()
                end = time.monotonic() + live.stream_s
                while time.monotonic() < end:
                    try:
                        event = await asyncio.wait_for(q.get(), timeout=min(live.heartbeat_s, end - time.monotonic()))
                    except asyncio.TimeoutError:
                        if await request.is_disconnected():
                            return
                        yield b": keep-alive\n\n"
                        continue
                    yield f"event: collection-updated\ndata: {json.dumps(event)}\n\n".encode()
            finally:
                hub.unsubscribe(collectionId, q)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return r


def _check_accept(accept: str) -> None:
    """406 when the Accept header rules out text/event-stream (e.g. `application/json`); none, */* or text/* pass."""
    from ..errors import NotAcceptable

    if not accept.strip():
        return
    for part in accept.split(","):
        media, *params = [x.strip().lower() for x in part.split(";")]
        q = next((p[2:] for p in params if p.startswith("q=")), "1")
        try:
            weight = float(q)
        except ValueError:
            weight = 0.0
        if media in ("text/event-stream", "text/*", "*/*") and weight > 0:
            return
    raise NotAcceptable(f"cannot produce {accept!r}; the events of a collection are text/event-stream",
                        parameter="Accept")

