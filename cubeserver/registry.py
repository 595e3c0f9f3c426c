"""Registry: collection id -> Collection, each opened once at start, lazily."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .axes import AxisModel, build_axes, iso_times
from .config import VECTOR_FORMATS, CollectionConfig, ServerConfig
from .errors import NotFound
from .sources import open_gridded
from .sources.times import clean_time_axes, decoding_note

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

    @property
    def kind(self) -> str:
        return "coverage" if self.ds is not None else "features"

    @property
    def title(self) -> str:
        return self.config.title or self.id

    @property
    def variables(self) -> list[str]:
        """Data variables on the full spatial grid (those EDR and Coverages can serve)."""
        ax = self.axes
        return [str(n) for n, v in self.ds.data_vars.items() if ax.x in v.dims and ax.y in v.dims]

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
    """Holds every collection; gridded ones are opened at start (metadata only, data lazy)."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self._collections: dict[str, Collection] = {}
        self._lock = threading.Lock()
        for cid, cc in config.collections.items():
            self._collections[cid] = open_collection(cid, cc, config.resolve(cc.path))

    def __iter__(self):
        return iter(list(self._collections.values()))

    def __contains__(self, cid: str) -> bool:
        return cid in self._collections

    def get(self, cid: str) -> Collection:
        try:
            return self._collections[cid]
        except KeyError:
            shown = cid if len(cid) <= 80 else cid[:80] + "..."
            raise NotFound(f"no collection {shown!r}; see /collections for the list", parameter="collectionId") from None

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
        if c is not None and c.ds is not None:
            c.ds.close()


def open_collection(cid: str, cc: CollectionConfig, path: Path) -> Collection:
    if cc.format in VECTOR_FORMATS:
        from .features.store import FeatureStore

        return Collection(cid, cc, features=FeatureStore.open(path, id_property=cc.id_property, time_property=cc.time_property))
    try:
        ds = clean_time_axes(open_gridded(path, cc.format, cc.chunks), cid)
    except ValueError as e:
        raise ValueError(f"collections.{cid}: {e}") from None
    if cc.variables:
        missing = [v for v in cc.variables if v not in ds.data_vars]
        if missing:
            raise ValueError(f"collections.{cid}.variables: {missing} not in the dataset ({sorted(ds.data_vars)})")
        ds = ds[cc.variables]
    try:
        axes = build_axes(ds, cc.axes.model_dump(), cc.crs)
    except ValueError as e:
        raise ValueError(f"collections.{cid}: {e}") from None
    return Collection(cid, cc, ds=ds, axes=axes)


def temporal_extent(c: Collection) -> list[list[str | None]] | None:
    iv = c.axes.time_interval() if c.axes else None
    return [iv] if iv else None


__all__ = ["Collection", "Registry", "open_collection", "iso_times", "temporal_extent"]
