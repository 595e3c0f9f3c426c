"""Why a collection cannot be opened, as one line an operator can act on.

`sniff` tells a file's kind from its first bytes (NetCDF classic/HDF5, TIFF, GRIB,
SQLite/GeoPackage, a Zarr folder), so a wrong `format:` is named as such rather than
as the reading library's error. `open_problem` turns any exception of the data
libraries (OSError, ValueError, KeyError, RuntimeError, EOFError from netCDF4, h5py,
rasterio, cfgrib, zarr, cftime ...) into `collections.<id>.<key>: ...`, never a traceback.
"""

from __future__ import annotations

import glob as _glob
import re
from pathlib import Path

LABELS = {"netcdf": "NetCDF/HDF5", "zarr": "Zarr", "geotiff": "GeoTIFF", "grib": "GRIB",
          "geojson": "GeoJSON", "vector": "vector (GeoPackage, Shapefile, FlatGeobuf)"}
# first bytes of each kind of file; HDF5 may also start at 512, 1024, 2048 ... (a user block)
_SIGNATURES = [
    (b"CDF\x01", "netcdf"), (b"CDF\x02", "netcdf"), (b"CDF\x05", "netcdf"), (b"\x89HDF\r\n\x1a\n", "netcdf"),
    (b"II*\x00", "geotiff"), (b"MM\x00*", "geotiff"), (b"II+\x00", "geotiff"), (b"MM\x00+", "geotiff"),
    (b"GRIB", "grib"), (b"SQLite format 3\x00", "vector"),
]
_ZARR_MARKERS = (".zgroup", ".zarray", ".zmetadata", "zarr.json")
_MAX_MESSAGE = 300
_SHORT = 160  # a library message longer than this is left out when the signature already says enough


class CollectionProblem(ValueError):
    """A problem with one config key of a collection (`key` e.g. "variables", "axes.t", "chunks")."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def first_file(path: Path) -> Path | None:
    """`path` itself, or the first file a glob matches (None when it matches nothing)."""
    text = str(path)
    if any(ch in text for ch in "*?["):
        files = sorted(_glob.glob(text))
        return Path(files[0]) if files else None
    return path


def sniff(path: Path) -> str | None:
    """The format a file or folder is, from its signature; None when it cannot tell (or cannot read it)."""
    try:
        if path.is_dir():
            return "zarr" if any((path / m).exists() for m in _ZARR_MARKERS) else None
        with open(path, "rb") as f:
            head = f.read(16)
            for sig, kind in _SIGNATURES:
                if head.startswith(sig):
                    return kind
            for offset in (512, 1024, 2048):
                f.seek(offset)
                if f.read(8) == b"\x89HDF\r\n\x1a\n":
                    return "netcdf"
    except OSError:
        return None
    return None


def format_mismatch(fmt: str, path: Path, shown: str) -> str | None:
    """Why `format: fmt` is wrong for the file at `path` when its signature says another format, else None."""
    target = first_file(path)
    kind = sniff(target) if target is not None else None
    if kind is None or kind == fmt or (kind == "vector" and fmt in ("geojson", "vector")):
        return None
    return (f"{shown!r} is a {LABELS[kind]} file, not {LABELS.get(fmt, fmt)}: "
            f"set format: {kind} (or leave 'format' out to infer it from the name)")


def open_problem(cid: str, fmt: str, path: Path, shown: str, exc: BaseException) -> str:
    """One line for an exception raised while opening collection `cid` (format `fmt`, file `path`).

    `shown` is the path as the config wrote it; the resolved path is replaced by it so
    the line does not depend on where the server runs.
    """
    if isinstance(exc, CollectionProblem):
        return f"collections.{cid}.{exc.key}: {_clean(str(exc), path, shown)}"
    wrong = format_mismatch(fmt, path, shown) if fmt else None
    if wrong:
        return f"collections.{cid}.format: {wrong}"
    msg = _clean(_message(exc), path, shown)
    if _is_time_error(msg):
        return f"collections.{cid}.path: the times in {shown!r} cannot be decoded: {msg}"
    target = first_file(path)
    if target is None:
        return f"collections.{cid}.path: no files match {shown!r}"
    if target.is_file() and sniff(target) is None and fmt in ("netcdf", "geotiff", "grib"):
        detail = f": {msg}" if len(msg) <= _SHORT else ""
        return (f"collections.{cid}.path: {shown!r} is not a {LABELS[fmt]} file "
                f"(corrupt, truncated or another kind of file){detail}")
    hint = " (a truncated or corrupt file?)" if isinstance(exc, OSError) and sniff(target) == fmt else ""
    return f"collections.{cid}.path: cannot open {shown!r} as {LABELS.get(fmt, fmt)}{hint}: {msg}"


def _message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, KeyError) and exc.args:
        text = f"missing {exc.args[0]!r}"
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in ("ValueError", "CollectionProblem") else text


def _is_time_error(msg: str) -> bool:
    return bool(re.search(r"decode[_ ]times|time units|calendar|OutOfBoundsDatetime|cftime", msg, re.IGNORECASE))


def _clean(msg: str, path: Path, shown: str) -> str:
    """First line only, no xarray advice that does not apply to a server, paths as configured, short."""
    msg = msg.strip().splitlines()[0] if msg.strip() else msg
    msg = re.sub(r"\s*Try opening your dataset with decode_times=False.*$", "", msg)
    msg = re.sub(r";? *It might help to specify the correct driver.*?(?=\)|$)", "", msg)
    msg = msg.replace(str(path), shown)
    if len(msg) > _MAX_MESSAGE:
        msg = msg[:_MAX_MESSAGE] + "..."
    return msg
