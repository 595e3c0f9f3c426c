"""Remote collections: a `path` that is an s3://, gs://, az:// or http(s):// URL, read through fsspec.

Zarr (v2 and v3) is read chunk by chunk from the store; NetCDF/HDF5 through h5netcdf (classic
NetCDF through scipy) on an fsspec file, so only the byte ranges a request needs are fetched,
`remote.block_size` at a time, the blocks kept in memory per file up to `remote.block_cache_bytes`
(fsspec's "blockcache"); GeoTIFF/COG through rasterio with the fsspec filesystem as its opener;
a glob lists the store. Credentials come from `storage_options` or the environment and are never
logged: errors name the collection and the kind of failure only (`describe`).

Every file opened here is closed with the dataset (`Dataset.close()`, see `_closing`), so no GDAL
or HDF5 handle on a Python file object outlives the registry (they crashed the interpreter at exit).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import re
import threading

import xarray as xr

log = logging.getLogger("cubeserver")

PROTOCOL_EXTRAS = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs", "abfss": "adlfs",
                   "http": "aiohttp", "https": "aiohttp"}


_collecting = threading.local()


@contextlib.contextmanager
def collect():
    """Collects the close functions of every remote file, GDAL dataset or store opened inside the block (a list
    of callables, to call when the collection is closed: derived Datasets do not carry xarray's close along)."""
    outer = getattr(_collecting, "closers", None)
    _collecting.closers = closers = []
    try:
        yield closers
    finally:
        _collecting.closers = outer


def on_close(fn) -> None:
    """Register `fn` with the innermost `collect()` (no-op outside one)."""
    closers = getattr(_collecting, "closers", None)
    if closers is not None:
        closers.append(fn)


def filesystem(url: str, storage_options: dict, timeout: float):
    """(fsspec filesystem, path inside it) for `url`; ImportError naming the extra when its package is missing."""
    import fsspec

    protocol = url.split("://", 1)[0].lower()
    options = copy.deepcopy(dict(storage_options or {}))  # the config's own mapping stays as written
    if protocol == "s3":
        options = _s3_options(options, timeout)
    elif protocol in ("http", "https"):
        import aiohttp

        options.setdefault("client_kwargs", {}).setdefault("timeout", aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout))
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError:
        raise ImportError(f"reading {protocol}:// URLs needs the package {PROTOCOL_EXTRAS.get(protocol, protocol)} "
                          "(pip install 'cubeserver[remote]')") from None
    if protocol == "s3" and getattr(fs, "retries", 1) > 1:
        # botocore's retries (config_kwargs) are enough: s3fs would call a timed-out request 5 times more, so a
        # store that stopped answering took ~20 x timeout_s to become a 503
        fs.retries = 1
    return fs, path


def _s3_options(options: dict, timeout: float) -> dict:
    """`endpoint_url` at the top level (S3-compatible servers) is what s3fs wants; timeouts and no long retries."""
    config = dict(options.pop("config_kwargs", {}) or {})
    config.setdefault("connect_timeout", timeout)
    config.setdefault("read_timeout", timeout)
    config.setdefault("retries", {"max_attempts": 2, "mode": "standard"})
    return {**options, "config_kwargs": config}


def open_remote(url: str, fmt: str, chunks: dict, storage_options: dict, remote) -> xr.Dataset:
    """Open `url` lazily as `fmt` (netcdf, zarr, geotiff; a glob of NetCDF files); `remote` is config.remote."""
    from .times import open_decoded

    fs, path = filesystem(url, storage_options, remote.timeout_s)
    if any(ch in path for ch in "*?["):
        fs.invalidate_cache()
        files = sorted(fs.glob(path))
        if not files:
            raise FileNotFoundError(f"no objects match {url!r}")
        handles = [_file(fs, f, remote, share=len(files)) for f in files]
        from .many import open_many

        try:
            return _closing(open_many(handles, chunks), handles)
        except BaseException:
            _close_all(handles)
            raise
    if fmt == "zarr":
        mapper = fs.get_mapper(path)
        return open_decoded(lambda **kw: xr.open_zarr(mapper, chunks=chunks, **kw))
    if fmt == "netcdf":
        handle = _file(fs, path, remote)
        try:
            ds = open_decoded(lambda **kw: xr.open_dataset(handle, chunks=chunks or {}, **kw))
        except BaseException:
            handle.close()
            raise
        return _closing(ds, [handle])
    if fmt == "geotiff":
        from . import _open_geotiff

        return _open_geotiff(path, chunks, opener=fs)
    raise ValueError(f"format {fmt!r} cannot be read from a URL (netcdf, zarr, geotiff, kerchunk, icechunk can)")


def _file(fs, path: str, remote, share: int = 1):
    """A read-only fsspec file fetching `block_size` bytes per request, keeping its `share` of `block_cache_bytes`
    (the files of a glob split it) in blocks; its reads pause the garbage collector (gc_paused: h5py deadlock)."""
    from .gc_paused import GCPausedFile

    blocks = remote.block_cache_bytes // share // remote.block_size
    if blocks <= 0:
        return GCPausedFile(fs.open(path, "rb", block_size=remote.block_size, cache_type="readahead"))
    return GCPausedFile(fs.open(path, "rb", block_size=remote.block_size, cache_type="blockcache",
                                cache_options={"maxblocks": blocks}))


def _closing(ds: xr.Dataset, handles: list) -> xr.Dataset:
    """`ds` whose close() also closes `handles` (after xarray's own files, which read through them); the close
    is also registered with `collect()`."""
    inner = ds._close
    done = []

    def close():
        if done:
            return
        done.append(True)
        try:
            if inner is not None:
                inner()
        finally:
            _close_all(handles)

    ds.set_close(close)
    on_close(close)
    return ds


def _close_all(handles) -> None:
    for h in handles:
        try:
            h.close()
        except Exception:  # noqa: BLE001 - closing a broken connection must not hide the real error
            pass


def fingerprint(url: str, fmt: str, storage_options: dict, remote) -> tuple[str, float | None]:
    """(token, modified): a short token that changes when the remote source does (the ETag/size/mtime of its
    object(s), or of a Zarr store's root metadata documents), and their latest modification time."""
    fs, path = filesystem(url, storage_options, remote.timeout_s)
    fs.invalidate_cache()  # listings and infos are cached by the filesystem: ask the store again
    if any(ch in path for ch in "*?["):
        infos = [fs.info(p) for p in sorted(fs.glob(path))]
    elif fmt == "zarr":
        infos = _zarr_metadata(fs, path.rstrip("/"))
        if not any(i["name"].rsplit("/", 1)[-1] in _ZARR_ROOT for i in infos):
            raise FileNotFoundError(f"{url!r} is not a Zarr store (no zarr.json, .zgroup or .zmetadata)")
    else:
        infos = [fs.info(path)]
    keep = ("name", "ETag", "etag", "size", "LastModified", "mtime", "last_modified", "generation")
    text = json.dumps([{k: str(i.get(k)) for k in keep if k in i} for i in infos], sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest(), modified(infos)


_ZARR_ROOT = ("zarr.json", ".zmetadata", ".zattrs", ".zgroup")


def _zarr_metadata(fs, path: str) -> list[dict]:
    """The infos of a Zarr store's root metadata and of each array's (appending time steps rewrites those):
    one listing and a HEAD per array."""
    infos = []
    for entry in fs.ls(path, detail=True):
        name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
        if entry.get("type") != "directory":
            if name in _ZARR_ROOT:
                infos.append(entry)
            continue
        for meta in ("zarr.json", ".zarray"):
            try:
                infos.append(fs.info(f"{entry['name'].rstrip('/')}/{meta}"))
                break
            except FileNotFoundError:
                continue
    return infos


def modified(infos: list[dict]) -> float | None:
    """The latest modification time (seconds since the epoch) in fsspec `info` results, None when none says."""
    times = []
    for i in infos:
        t = i.get("LastModified") or i.get("mtime") or i.get("last_modified") or i.get("updated")
        if hasattr(t, "timestamp"):
            times.append(t.timestamp())
        elif isinstance(t, (int, float)):
            times.append(float(t))
    return max(times) if times else None


def describe(url: str, exc: BaseException) -> str:
    """What went wrong with a remote store, in words that hold no credential: 404, 403, timeout, unreachable.

    The causes of `exc` are looked at first: fsspec's HTTP filesystem turns a refused connection or a 403
    into a FileNotFoundError whose cause tells what really happened."""
    if isinstance(exc, ImportError):
        return str(exc)
    causes = chain(exc)
    shown = _public(url)
    if any(type(e).__name__ == "ReferenceNotReachable" for e in causes):  # kerchunk: a target, not the reference
        shown = f"a file that the reference {shown} points at"
    for e in reversed(causes):  # the innermost cause first
        why = _kind(shown, e, generic=False)
        if why:
            return why
    return _kind(shown, exc, generic=True)


def chain(exc: BaseException | None, depth: int = 8) -> list[BaseException]:
    """`exc` and its causes (`__cause__`, else `__context__`), outermost first."""
    out = []
    while exc is not None and len(out) < depth and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


def _kind(shown: str, exc: BaseException, generic: bool) -> str:
    """One failure's words about `shown` (a public URL); `generic`: any OSError counts as unreachable (only for the outermost error)."""
    name = type(exc).__name__
    text = str(exc)
    status = getattr(exc, "status", None)
    if name == "NoCredentialsError":
        return (f"no credentials to read {shown}: set them in storage_options or the environment "
                "(or anon: true for a public store)")
    if status == 404 or isinstance(exc, FileNotFoundError) or "NoSuchKey" in text or "NoSuchBucket" in text \
            or re.search(r"\b404\b", text):
        return f"{shown} was not found in the store (404)"
    if status in (401, 403) or isinstance(exc, PermissionError) or "AccessDenied" in text \
            or re.search(r"\b40[13]\b", text) or "Forbidden" in text:
        return f"access to {shown} was denied (403): check storage_options or the environment's credentials"
    if isinstance(exc, TimeoutError) or "timeout" in name.lower() or "timed out" in text.lower():
        return f"the store of {shown} did not answer in time"
    if "Connect" in name or "EndpointConnection" in name or isinstance(exc, ConnectionError) \
            or (generic and isinstance(exc, OSError)):
        return f"the store of {shown} cannot be reached ({name})"
    return ""


def config_problem(exc: BaseException) -> tuple[str, str] | None:
    """(config key, words) when opening a remote source failed because of its settings rather than the store:
    an option the filesystem does not know, an HTTP server that cannot answer byte ranges."""
    for e in chain(exc):
        text = str(e)
        m = re.search(r"unexpected keyword argument '(\w+)'", text)
        if isinstance(e, TypeError) and m:
            return "storage_options", f"{m.group(1)!r} is not an option of this filesystem (see fsspec's options for it)"
        if "support range requests" in text:
            return "path", ("the HTTP server does not answer byte ranges (Range requests), which reading part of a "
                            "file needs: serve the file from a server that does")
    return None


def _public(url: str) -> str:
    """`url` without a user:password part or a query string (signed URLs carry keys there)."""
    if "://" not in url:  # a local reference file or repository: its name only (answers show no server path)
        return url.rstrip("/").replace("\\", "/").rsplit("/", 1)[-1]
    scheme, _, rest = url.partition("://")
    host, slash, tail = rest.partition("/")
    host = host.rpartition("@")[2]
    return f"{scheme}://{host}{slash}{tail.split('?')[0]}"


def is_store_error(exc: BaseException) -> bool:
    """An error of a remote store met while reading data (not a bug): OSError (404/403/timeouts from s3fs, gcsfs,
    fsspec's HTTP), aiohttp's client errors, botocore's."""
    if isinstance(exc, (OSError, TimeoutError)):
        return True
    mod = type(exc).__module__ or ""
    return mod.startswith(("aiohttp", "botocore", "aiobotocore", "fsspec", "s3fs", "gcsfs", "adlfs"))
