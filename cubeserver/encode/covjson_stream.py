"""Large Grid answers as streamed CoverageJSON: read slab k+1 while slab k is encoded and sent.

For a few million values the time goes to reading chunks (GIL released: decompression)
and to writing numbers (orjson, GIL held). Doing them one after the other wastes a
core; here the Dataset is cut into slabs along its first axis at the source's chunk
boundaries (`slabs.py`, so every chunk is still read exactly once), a helper thread computes
the next slab while this one is encoded, and bytes leave as soon as they exist. Memory
stays at a couple of slabs instead of the whole answer plus its JSON.
"""

from __future__ import annotations

import logging
from typing import Iterator

import numpy as np
import orjson
import xarray as xr
from starlette.responses import StreamingResponse

from ..axes import AxisModel
from .covjson import MEDIA_TYPE, domain_axes, number_text, parameters, referencing
from .slabs import ahead, prefetched, slabs

log = logging.getLogger("cubeserver")
STREAM_MIN_VALUES = 1_000_000
_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def streamable(ds: xr.Dataset, axes: AxisModel) -> bool:
    """Big float grids without extra dimensions (those become a CoverageCollection, built in memory)."""
    if axes.curvilinear is not None:
        return False  # cells with 2-D lat/lon are listed one by one (encode/covjson_cells.py), not a Grid
    if any(d in ds.dims for d in axes.others):
        return False
    if any(v.dtype.kind != "f" for v in ds.data_vars.values()):
        return False  # integer nodata needs the whole slab to choose integer vs float: not worth streaming
    return sum(v.size for v in ds.data_vars.values()) >= STREAM_MIN_VALUES


def _marker(i: int) -> str:
    return f"@@cubeserver-values-{i}@@"


def _skeleton(ds: xr.Dataset, axes: AxisModel) -> tuple[list[bytes], list[tuple[xr.DataArray, list[str]]]]:
    """The coverage JSON cut where each range's values go, and the (lazy) variables to fill in."""
    cov_axes, names, dims = domain_axes(ds, axes)
    ranges, lazy = {}, []
    for i, (n, v) in enumerate(ds.data_vars.items()):
        var = v.transpose(*dims)
        ranges[str(n)] = {"type": "NdArray", "dataType": "float", "axisNames": names, "shape": list(var.shape),
                          "values": _marker(i)}
        lazy.append((var, dims))
    doc = {
        "type": "Coverage",
        "domain": {"type": "Domain", "domainType": "Grid", "axes": cov_axes,
                   "referencing": referencing(axes, "z" in names, "t" in names)},
        "parameters": parameters(ds),
        "ranges": ranges,
    }
    body = orjson.dumps(doc, option=_OPTS)
    pieces = []  # pieces[i] opens range i's values ("...[" after closing the previous "]"), the last closes
    for i in range(len(lazy)):
        head, body = body.split(b'"' + _marker(i).encode() + b'"', 1)
        pieces.append((b"]" if i else b"") + head + b"[")
    pieces.append(b"]" + body)
    return pieces, lazy


def _values(arr: np.ndarray) -> memoryview:
    """The numbers of one slab, comma-separated, without the brackets (a view: no copy); NaN -> null;
    as `covjson.number_text` writes them (whole floats without `.0`)."""
    return memoryview(number_text(arr))[1:-1]


def _generate(pieces: list[bytes], lazy: list) -> Iterator[bytes | memoryview]:
    """The document's bytes in order; slab k+1 is being read while slab k is encoded (`slabs.prefetched`)."""
    jobs = [(i, var.isel({var.dims[0]: s})) for i, (var, _) in enumerate(lazy) for s in slabs(var)]
    try:
        current = None
        for (i, _), values in zip(jobs, prefetched([slab for _, slab in jobs])):
            if current != i:
                yield pieces[i]
                current = i
            else:
                yield b","
            yield _values(values)
        yield pieces[-1]
    except Exception:
        log.exception("streamed CoverageJSON aborted; the client gets a truncated body")
        raise


def stream_grid(ds: xr.Dataset, axes: AxisModel) -> StreamingResponse:
    """A StreamingResponse of one Grid coverage: read, encode and send overlap, one slab each."""
    pieces, lazy = _skeleton(ds, axes)
    return StreamingResponse(ahead(_generate(pieces, lazy)), media_type=MEDIA_TYPE)
