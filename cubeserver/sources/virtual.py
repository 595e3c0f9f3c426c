"""Virtual datasets: kerchunk/VirtualiZarr references and Icechunk repositories as collection sources.

`format: kerchunk`: `path` is a reference file (JSON) or a Parquet reference folder, local or remote; the
chunks it points at are read with fsspec's ReferenceFileSystem from wherever the reference says (the
collection's `storage_options` apply to the reference and to the referenced files).
`format: icechunk`: `path` is a repository (a local folder or s3://bucket/prefix); `icechunk:` picks
a branch (default main), a tag or a snapshot id. Packages: cubeserver[virtual] (kerchunk, fastparquet,
icechunk).
"""

from __future__ import annotations

import hashlib

import xarray as xr

from ..config import is_url
from .remote import filesystem, modified
from .times import open_decoded


def open_virtual(path: str, fmt: str, chunks: dict, cc, remote) -> xr.Dataset:
    if fmt == "kerchunk":
        return open_decoded(lambda **kw: xr.open_zarr(_reference_mapper(path, cc, remote), chunks=chunks,
                                                      consolidated=False, zarr_format=2, **kw))
    session = _icechunk_session(path, cc)
    return open_decoded(lambda **kw: xr.open_zarr(session.store, chunks=chunks, consolidated=False, **kw))


def _reference_mapper(path: str, cc, remote):
    """A Zarr store over the reference: a JSON file is read here (local or remote), a Parquet folder (local or
    remote) is handed to fsspec's ReferenceFileSystem, which reads its pieces lazily."""
    import json

    import fsspec

    options = dict(cc.storage_options or {})
    fo = path
    where = {}
    if is_url(path):
        fs, inner = filesystem(path, options, remote.timeout_s)
        if fs.isdir(inner):  # a Parquet folder in the store: its pieces are read lazily through the same options
            where = {"target_protocol": path.split("://", 1)[0], "target_options": dict(options)}
        else:
            with fs.open(inner, "rb") as f:
                fo = json.load(f)
    protocol = {"remote_protocol": options.pop("remote_protocol")} if "remote_protocol" in options else {}
    # asynchronous throughout: zarr 3 reads through an async store, and a reference filesystem must match its targets
    ref = fsspec.filesystem("reference", fo=fo, remote_options={**options, "asynchronous": True}, asynchronous=True,
                            skip_instance_cache=True, **where, **protocol)
    from zarr.storage import FsspecStore

    return FsspecStore(ref, read_only=True, path="")


def _icechunk_repo(path: str, cc):
    try:
        import icechunk
    except ImportError:
        raise ImportError("format icechunk needs the package icechunk (pip install 'cubeserver[virtual]')") from None
    if path.startswith("s3://"):
        bucket, _, prefix = path[5:].partition("/")
        o = cc.storage_options or {}
        endpoint = o.get("endpoint_url") or (o.get("client_kwargs") or {}).get("endpoint_url")
        storage = icechunk.s3_storage(
            bucket=bucket, prefix=prefix, endpoint_url=endpoint, region=o.get("region") or "us-east-1",
            access_key_id=o.get("key"), secret_access_key=o.get("secret"), anonymous=bool(o.get("anon")) or None,
            from_env=not (o.get("key") or o.get("anon")) or None, allow_http=bool(endpoint and endpoint.startswith("http:")),
            force_path_style=bool(endpoint))
    elif is_url(path):
        raise ValueError(f"Icechunk repositories are read from a local folder or s3:// (not {path.split('://')[0]}://)")
    else:
        storage = icechunk.local_filesystem_storage(path)
    return icechunk.Repository.open(storage)


def _icechunk_session(path: str, cc):
    return _session(_icechunk_repo(path, cc), cc)


def _session(repo, cc):
    """A read-only session at the configured branch, tag or snapshot; CollectionProblem naming it when the
    repository has no such ref (Icechunk's own error is a multi-line Rust report)."""
    ref = cc.icechunk
    if ref is not None and ref.snapshot:
        kind, name, kw = "snapshot", ref.snapshot, {"snapshot_id": ref.snapshot}
    elif ref is not None and ref.tag:
        kind, name, kw = "tag", ref.tag, {"tag": ref.tag}
    else:
        name = ref.branch if ref is not None and ref.branch else "main"
        kind, kw = "branch", {"branch": name}
    try:
        return repo.readonly_session(**kw)
    except Exception as e:
        if type(e).__name__ == "IcechunkError" and "not found" in str(e):
            from .diagnose import CollectionProblem

            raise CollectionProblem("icechunk", f"the repository has no {kind} {name!r}") from None
        raise


def fingerprint(path: str, fmt: str, cc, remote) -> tuple[str, float | None]:
    """(token, modified): the snapshot id an Icechunk branch/tag points at and when it was written; the
    reference file's (or Parquet folder's) ETag/size/mtime and latest modification."""
    if fmt == "icechunk":
        repo = _icechunk_repo(path, cc)
        session = _session(repo, cc)
        written = repo.lookup_snapshot(session.snapshot_id).written_at
        text, when = session.snapshot_id, written.timestamp()
    else:
        fs, inner = filesystem(path, cc.storage_options, remote.timeout_s) if is_url(path) else _local(path)
        infos = [fs.info(inner)]
        if infos[0].get("type") == "directory":
            infos = [fs.info(p) for p in sorted(fs.find(inner))]
        text = repr([(i.get("name"), i.get("size"), i.get("ETag"), i.get("mtime"), i.get("LastModified")) for i in infos])
        when = modified(infos)
    return hashlib.blake2b(str(text).encode(), digest_size=8).hexdigest(), when


def _local(path: str):
    import fsspec

    return fsspec.filesystem("file"), path
