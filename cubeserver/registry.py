"""Registry: collection id -> Collection, each opened at start, lazily, and again when its source changes.

`reload(cid)` opens the new version beside the old one and swaps it in atomically (requests in flight
finish on the old Dataset, closed `live.grace_s` later); `cubeserver.live` decides when (poll, admin
endpoint, CLI). A remote collection whose store cannot be reached is `unavailable` (503) until it can.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .auth.identity import may_see
from .axes import AxisModel, build_axes, iso_times
from .config import VECTOR_FORMATS, CollectionConfig, ConfigError, ServerConfig
from .errors import NotFound, StoreUnavailable
from .sources import open_gridded
from .sources.diagnose import CollectionProblem, format_mismatch, open_problem
from .sources.coords import drop_missing_positions, promote_scalar_axes
from .sources.times import clean_time_axes, decoding_note
from .timeseries.layout import attach as attach_timeseries

log = logging.getLogger("cubeserver")


@dataclass
class Collection:
    """One published collection: a lazy gridded Dataset with its axis model, or a vector store."""

    id: str
    config: CollectionConfig
    ds: xr.Dataset | None = None
    axes: AxisModel | None = None
    features: Any = None  # cubeserver.features.store.FeatureStore for vector collections
    temporary: bool = False  # e.g. a job's output, removed with the job
    extra: dict = field(default_factory=dict)
    version: str = ""  # the source's fingerprint when opened (sources/fingerprint.py): in ETags and chunk-cache keys
    opened_at: float = field(default_factory=time.time)
    modified: float | None = None  # the source's latest modification (Last-Modified of remote/virtual ones)
    closers: list = field(default_factory=list)  # remote files/GDAL datasets to close with it (sources/remote.py)

    def close(self) -> None:
        if self.ds is not None:
            self.ds.close()
        for fn in self.closers:
            try:
                fn()
            except Exception:  # noqa: BLE001 - a store that went away cannot be closed cleanly
                log.debug("closing %s", self.id, exc_info=True)

    @property
    def kind(self) -> str:
        return "coverage" if self.ds is not None else "features"

    @property
    def title(self) -> str:
        return self.config.title or self.id

    @property
    def variables(self) -> list[str]:
        """Data variables on the full spatial grid (those EDR and Coverages can serve); worked out once per
        Dataset (asked several times by every request)."""
        ds, ax = self.ds, self.axes
        known = self.extra.get("_variables")
        if known is None or known[0] is not ds or known[1] is not ax:
            known = (ds, ax, tuple(str(n) for n, v in ds.data_vars.items() if ax.x in v.dims and ax.y in v.dims))
            self.extra["_variables"] = known
        return list(known[2])

    def variable_info(self, name: str) -> dict:
        v = self.ds[name]
        attrs = v.attrs
        enc = v.encoding
        nodata = attrs.get("_FillValue", enc.get("_FillValue", enc.get("missing_value")))
        return {
            "name": name,
            "units": attrs.get("units"),
            "standard_name": attrs.get("standard_name"),
            "long_name": attrs.get("long_name") or name,
            "dtype": str(v.dtype),
            "nodata": _plain(nodata),
            "dims": [str(d) for d in v.dims],
        }

    def summary(self) -> dict:
        """What check-config prints: format, axes, variables, extent."""
        out = {"id": self.id, "kind": self.kind, "format": self.config.format}
        if self.ds is not None:
            ax = self.axes
            out.update(
                axes=ax.describe(),
                variables=self.variables,
                bbox_crs84=[round(v, 6) for v in ax.crs84_bbox()],
                bbox_native=[round(v, 6) for v in ax.native_bbox()],
                time=ax.time_interval(),
                z=None if ax.z is None else [_plain(v) for v in ax.z_values],
            )
            note = decoding_note(self.ds[ax.t]) if ax.t else None
            if note:
                out["time_decoding"] = note
        elif self.features is not None:
            out.update(features=len(self.features), bbox_crs84=list(self.features.bbox))
        return out


def _plain(v):
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)
    return v


class Registry:
    """Holds every collection; gridded ones are opened at start (metadata only, data lazy).

    Each collection is opened on its own: any exception while opening one (a corrupt or
    missing file, a wrong `format`, undecodable times, unknown `variables`, bad `axes` or
    `chunks` ...) becomes lines in `problems` ({id: ["collections.<id>.<key>: ..."]}) and
    that collection is left out, so one run reports every problem of every collection.
    `skip_broken=False` (the default) then raises ConfigError with all the lines; True
    serves the healthy collections (the caller logs `problems`). A collection whose
    `locations:` names a broken or non-Features collection is served without named
    locations, with a line in `problems`.
    """

    def __init__(self, config: ServerConfig, skip_broken: bool = False):
        self.config = config
        from .sources.chunk_cache import configure

        configure(config.limits.chunk_cache_bytes)  # before any collection is opened
        self._collections: dict[str, Collection] = {}
        self._lock = threading.Lock()
        # collections not opened at start but looked up on every request (job results: processes/published.py),
        # each with `lookup(cid) -> Collection | None` and `collections() -> list[Collection]`
        self.sources: list[Any] = []
        self.problems: dict[str, list[str]] = {cid: list(lines) for cid, lines in config.problems.items()}
        self.unavailable: dict[str, str] = {}  # remote collections whose store failed: id -> why (answered with 503)
        self.listeners: list[Any] = []  # called with each collection swapped in by reload (live/events.py)
        self._retired: list[tuple[float, Collection]] = []  # replaced collections, closed after live.grace_s
        for cid, cc in config.probes.items():  # broken by their config: opened only to report data problems
            line = _try_open(cid, cc, config)[1]
            if line:
                self.problems[cid].append(line)
        for cid, cc in config.collections.items():
            c, line = _try_open(cid, cc, config)
            if c is not None:
                self._collections[cid] = c
            elif _store_down(cc, line):
                self.unavailable[cid] = line
                log.error("%s (answering 503; tried again every %gs)", line, config.remote.retry_s)
            else:
                self.problems.setdefault(cid, []).append(line)
        self._check_locations()
        order = {cid: i for i, cid in enumerate(config.configured_ids)}
        self.problems = dict(sorted(self.problems.items(), key=lambda kv: order.get(kv[0], len(order))))
        if self.problems and not skip_broken:
            self.close()
            raise ConfigError(self.problem_lines())

    @property
    def broken(self) -> list[str]:
        """Ids of configured collections that are not served."""
        return [cid for cid in self.problems if cid not in self._collections]

    def problem_lines(self) -> list[str]:
        return [line for lines in self.problems.values() for line in lines]

    def close(self) -> None:
        with self._lock:
            closing = list(self._collections.values()) + [c for _, c in self._retired]
            self._retired = []
        for c in closing:
            c.close()

    def reload(self, cid: str, force: bool = False) -> bool:
        """Open collection `cid` again if its source's fingerprint changed (always when `force`) and swap it in;
        True when swapped. A failed open keeps the old version (logged); the listeners hear of each swap."""
        cc = self.config.collections.get(cid)
        if cc is None:
            raise KeyError(cid)
        old = self._collections.get(cid)
        if old is not None and not force and _fingerprint(cc, self.config)[0] == old.version:
            return False
        new, line = _try_open(cid, cc, self.config)
        if new is None:
            if old is None:
                self.unavailable[cid] = line
            log.warning("reload of %s failed, %s: %s", cid, "still unavailable" if old is None else "keeping the "
                        "version served", line)
            return False
        with self._lock:
            self._collections[cid] = new
            self.unavailable.pop(cid, None)
            if old is not None:
                self._retired.append((time.monotonic(), old))
        log.info("collection %s reloaded (version %s)", cid, new.version)
        for listener in list(self.listeners):
            listener(new)
        return True

    def close_retired(self, grace: float) -> None:
        """Close the replaced collections swapped out more than `grace` seconds ago."""
        now = time.monotonic()
        with self._lock:
            due = [c for t, c in self._retired if now - t >= grace]
            self._retired = [(t, c) for t, c in self._retired if now - t < grace]
        for c in due:
            c.close()

    def _check_locations(self) -> None:
        for cid, c in list(self._collections.items()):
            loc = c.config.locations
            if not loc or loc not in self.config.collections and loc not in self.problems:
                continue  # no key, or a missing collection the config check already named
            target = self._collections.get(loc)
            if target is None:
                why = f"collection {loc!r} is broken"
            elif target.kind != "features":
                why = f"{loc!r} is a coverage, not a Features collection"
            else:
                continue
            self.problems.setdefault(cid, []).append(f"collections.{cid}.locations: {why}; "
                                                     f"{cid!r} is served without named locations")
        for cid, c in list(self._collections.items()):  # served collections whose locations are not served
            loc = c.config.locations
            if loc and (loc not in self._collections or self._collections[loc].kind != "features"):
                c.config = c.config.model_copy(update={"locations": None})

    def __iter__(self):
        """The collections the current identity may see (all of them outside a request or without auth),
        then those of the sources (job results), asked now."""
        found = list(self._collections.values()) + [c for s in self.sources for c in s.collections()]
        return iter([c for c in found if may_see(c.config)])

    def __contains__(self, cid: str) -> bool:
        c = self._collections.get(cid)
        if c is None:
            c = next((x for x in (s.lookup(cid) for s in self.sources) if x is not None), None)
        return c is not None and may_see(c.config)

    def get(self, cid: str) -> Collection:
        """The collection, or 404, also for a private one the current identity may not see (no leak)."""
        try:
            c = self._collections[cid]
            if not may_see(c.config):
                raise KeyError(cid)
            return c
        except KeyError:
            for source in self.sources:
                c = source.lookup(cid)
                if c is not None and may_see(c.config):
                    return c
            down = self.unavailable.get(cid)
            if down is not None and may_see(self.config.collections[cid]):
                raise StoreUnavailable(f"collection {cid!r} is unavailable: {_without_key(down)}; "
                                       "try again later", parameter="collectionId",
                                       headers={"Retry-After": str(int(self.config.remote.retry_s))}) from None
            shown = cid if len(cid) <= 80 else cid[:80] + "..."
            raise NotFound(f"no collection {shown!r}; see /collections for the list", parameter="collectionId") from None

    def loaded(self, cid: str) -> bool:
        """Whether `cid` is an open collection held in memory (then `get` does no I/O: callers on the event loop
        may call it directly; other ids may be looked up in job stores or opened)."""
        return cid in self._collections

    def gridded(self, cid: str) -> Collection:
        c = self.get(cid)
        if c.ds is None:
            raise NotFound(f"collection {cid!r} is a features collection, not a coverage", parameter="collectionId")
        return c

    def add(self, collection: Collection) -> None:
        with self._lock:
            self._collections[collection.id] = collection

    def remove(self, cid: str) -> None:
        with self._lock:
            c = self._collections.pop(cid, None)
        if c is not None:
            c.close()


def _fingerprint(cc: CollectionConfig, config: ServerConfig) -> tuple[str, float | None]:
    from .sources.fingerprint import fingerprint

    return fingerprint(cc, config)


def _store_down(cc: CollectionConfig, line: str) -> bool:
    """A remote/virtual collection whose store could not be read (not a problem of its config or data)."""
    return (cc.remote or cc.format in ("kerchunk", "icechunk")) and "[store]" in line


def _without_key(line: str) -> str:
    return line.split(": ", 1)[-1].replace("[store] ", "")


def _try_open(cid: str, cc: CollectionConfig, config: ServerConfig) -> tuple[Collection | None, str | None]:
    """(collection, None) or (None, the problem line): never raises for a data problem."""
    path = config.resolve(cc.path)
    try:
        c = open_collection(cid, cc, path, config)
        attach_timeseries(c, config)  # its time-series copy, if configured (cubeserver/timeseries)
        c.summary()  # extents and axis values: what every collection document needs
        return c, None
    except Exception as e:  # noqa: BLE001 - any data library's error is this collection's problem
        log.debug("collection %s failed to open", cid, exc_info=True)
        if (cc.remote or cc.format in ("kerchunk", "icechunk")) and not isinstance(e, CollectionProblem):
            from .sources.remote import config_problem, describe

            wrong = config_problem(e)
            if wrong:
                return None, f"collections.{cid}.{wrong[0]}: {wrong[1]}"
            why = describe(cc.path, e)
            if why:  # never the library's text: it may hold a signed URL or a key
                return None, f"collections.{cid}.path: [store] {why}"
            return None, f"collections.{cid}.path: cannot open {cc.path!r} as {cc.format}: {type(e).__name__}"
        return None, open_problem(cid, cc.format, path, cc.path, e)


def open_collection(cid: str, cc: CollectionConfig, path: Path | str, config: ServerConfig | None = None) -> Collection:
    """Open one collection lazily; raises CollectionProblem naming the config key at fault, or the library's error.
    `config` (the server's) is needed for remote and virtual sources."""
    remote = isinstance(path, str) or cc.format in ("kerchunk", "icechunk")
    wrong = None if remote else format_mismatch(cc.format, path, cc.path)
    if wrong:
        raise CollectionProblem("format", wrong)
    if cc.format in VECTOR_FORMATS:
        from .features.store import FeatureStore

        return Collection(cid, cc, features=FeatureStore.open(path, id_property=cc.id_property, time_property=cc.time_property))
    from .sources.remote import collect

    version, modified = _fingerprint(cc, config) if config is not None else ("", None)
    with collect() as closers:
        try:
            ds = open_gridded(path, cc.format, cc.chunks, cc=cc, config=config, version=version)
        except BaseException:
            for fn in closers:
                fn()
            raise
    try:
        ds = drop_missing_positions(clean_time_axes(promote_scalar_axes(ds, cid), cid), cid)
        ds, axes = _checked(ds, cc)
    except BaseException:
        ds.close()
        for fn in closers:
            fn()
        raise
    return Collection(cid, cc, ds=ds, axes=axes, version=version, modified=modified, closers=closers)


def _checked(ds: xr.Dataset, cc: CollectionConfig) -> tuple[xr.Dataset, AxisModel]:
    """The dataset limited to `variables`, and its axes; CollectionProblem for a bad chunks/variables/axes/crs key."""
    unknown = sorted(set(cc.chunks or ()) - set(map(str, ds.dims)) - ({"band"} if cc.format == "geotiff" else set()))
    if unknown:
        raise CollectionProblem("chunks", f"no dimension {', '.join(map(repr, unknown))}; dimensions are "
                                          f"{sorted(map(str, ds.dims))}")
    if cc.variables:
        missing = [v for v in cc.variables if v not in ds.data_vars]
        if missing:
            raise CollectionProblem("variables", f"{missing} not in the dataset ({sorted(map(str, ds.data_vars))})")
        ds = ds[cc.variables]
    try:
        return ds, build_axes(ds, cc.axes.model_dump(), cc.crs)
    except ValueError as e:
        msg = str(e)
        key, _, rest = msg.partition(": ")
        if key.startswith("axes.") and rest:
            raise CollectionProblem(key, rest) from None
        raise CollectionProblem("crs" if cc.crs and "crs" in msg.lower() else "axes", msg) from None


def temporal_extent(c: Collection) -> list[list[str | None]] | None:
    iv = c.axes.time_interval() if c.axes else None
    return [iv] if iv else None


__all__ = ["Collection", "Registry", "open_collection", "iso_times", "temporal_extent"]
