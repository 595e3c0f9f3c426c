"""The built-in processes, by id, plus extensions loaded on first need (xclim indicators)."""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from typing import Callable

from .base import Process
from .library.anomaly import Anomaly
from .library.buffer import Buffer
from .library.coarsen import Coarsen
from .library.echo import Echo
from .library.temporal_aggregate import TemporalAggregate
from .library.threshold import ThresholdExceedance
from .library.zonal import ZonalStatistics

BUILTIN = (TemporalAggregate, Anomaly, ThresholdExceedance, ZonalStatistics, Coarsen, Buffer, Echo)


class ProcessCatalog(MutableMapping):
    """{id: Process}: the built-ins at once, each lazy extension (prefix, loader) when first needed.

    Looking up a built-in id never loads an extension; an id with an extension's prefix,
    or listing everything, loads it once (thread-safe). The order is built-ins first.
    """

    def __init__(self, eager: dict[str, Process], lazy: list[tuple[str, Callable[[], dict]]]):
        self._d = dict(eager)
        self._lazy = list(lazy)
        self._lock = threading.Lock()

    def _load(self, prefix: str | None = None) -> None:
        if not self._lazy:
            return
        with self._lock:
            keep = []
            for pre, loader in self._lazy:
                if prefix is None or prefix.startswith(pre):
                    for k, v in loader().items():
                        self._d.setdefault(k, v)
                else:
                    keep.append((pre, loader))
            self._lazy = keep

    def __getitem__(self, key):
        if key not in self._d:
            self._load(key)
        return self._d[key]

    def __contains__(self, key):
        try:
            self[key]
            return True
        except KeyError:
            return False

    def __setitem__(self, key, value):
        self._d[key] = value

    def __delitem__(self, key):
        del self._d[key]

    def __iter__(self):
        self._load()
        return iter(list(self._d))

    def __len__(self):
        self._load()
        return len(self._d)


def _xclim() -> dict:
    from .xclim import load

    return load()


def builtin_processes(preload: bool = True) -> ProcessCatalog:
    """The catalogue; `preload` starts loading the extensions (xclim's import, seconds) in a background
    thread, so the first GET /processes does not wait for it (it waits only if it comes sooner)."""
    catalog = ProcessCatalog({p.id: p() for p in BUILTIN}, [("xclim.", _xclim)])
    if preload:
        threading.Thread(target=catalog._load, name="cubeserver-process-catalog", daemon=True).start()
    return catalog
