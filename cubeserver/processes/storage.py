"""Where job result files live: the local state dir (default), a shared path, or object storage.

`jobs.results` names the place: unset -> `state_dir/jobs/` (as always); a plain path (e.g. an
NFS mount shared by several machines) -> that folder; any fsspec URL (`s3://bucket/prefix`,
`gs://...`, `az://...`) -> object storage, opened with fsspec and `jobs.results_options` (or the
library's own environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, ...).

Writes: a job writes its files into a local staging folder (`state_dir/jobs/{id}`, where local
results always lived) and the folder is uploaded in one `put` when the job has finished. NetCDF
(HDF5) cannot be written to an object store without a local, seekable file anyway; staging keeps
one write path for every backend, uploads the Zarr and NetCDF with the library's parallel,
multipart transfers, and never leaves a half-written result visible: the job is recorded
successful only after the upload. Reads stream from the store (`open` in blocks), and Zarr
results open lazily from an fsspec mapper. Removal deletes the job's prefix.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import IO, Any, Iterator

log = logging.getLogger("cubeserver.processes")

READ_BLOCK = 1024 * 1024  # bytes per streamed piece of a remote output (and fsspec's read-ahead block)


def is_url(setting: str | None) -> bool:
    """True for an fsspec URL (`proto://...`) other than `file://`."""
    return bool(setting) and "://" in setting and not setting.startswith("file://")


class JobFiles:
    """The files of one job, local or remote: what readers of results need."""

    def __init__(self, storage: ResultStorage, job_id: str):
        self.storage, self.job_id = storage, job_id
        self.remote = storage.remote
        self.local = None if self.remote else storage.root_path / job_id
        self.url = f"{storage.url}/{job_id}" if self.remote else str(self.local)

    def path(self, name: str) -> Path | None:
        """The local path of file `name` (None when the files are remote)."""
        return None if self.local is None else self.local / name

    def location(self, name: str) -> str:
        """Path or URL of `name` (for logs and collection configs; never shown to clients)."""
        return f"{self.url}/{name}"

    def open(self, name: str) -> IO[bytes]:
        """A binary file object reading `name` (remote: block-wise range requests, nothing read whole)."""
        if self.local is not None:
            return open(self.local / name, "rb")
        return self.storage.fs.open(self.location(name), "rb", block_size=READ_BLOCK)

    def read_bytes(self, name: str) -> bytes:
        with self.open(name) as f:
            return f.read()

    def size(self, name: str) -> int:
        if self.local is not None:
            return (self.local / name).stat().st_size
        return int(self.storage.fs.info(self.location(name))["size"])

    def chunks(self, name: str) -> Iterator[bytes]:
        """`name` as READ_BLOCK pieces (for a streamed response)."""
        with self.open(name) as f:
            while True:
                piece = f.read(READ_BLOCK)
                if not piece:
                    return
                yield piece

    def zarr_store(self, name: str) -> Any:
        """What `xarray.open_zarr` opens: the local folder, or an fsspec mapper on the store."""
        if self.local is not None:
            return self.local / name
        return self.storage.fs.get_mapper(self.location(name))


class ResultStorage:
    """The place of every job's result files (see the module docstring).

    `setting` is `jobs.results` (None, a path relative to the config file, or an fsspec URL),
    `options` the fsspec storage options. Raises ValueError (with the reason) when the URL's
    protocol is unknown or its library is not installed.
    """

    def __init__(self, setting: str | None, options: dict | None, state: Path, resolve=None):
        self.staging = Path(state) / "jobs"
        self.remote = is_url(setting)
        self.options = dict(options or {})
        if setting and setting.startswith(("s3://", "s3a://")):
            # other servers add and delete results: never answer from a cached listing
            self.options.setdefault("use_listings_cache", False)
        self._fs = None
        if self.remote:
            self.url = setting.rstrip("/")
            self.protocol = self.url.split("://", 1)[0]
            self.root_path = self.staging
        else:
            if setting and setting.startswith("file://"):
                setting = setting[len("file://"):]
            self.url = None
            self.root_path = (resolve(setting) if resolve else Path(setting)) if setting else self.staging

    @property
    def fs(self):
        """The fsspec file system (created on first use; its clients are thread-safe)."""
        if self._fs is None:
            import fsspec

            self._fs = fsspec.filesystem(self.protocol, **self.options)
        return self._fs

    def describe(self) -> str:
        return self.url if self.remote else str(self.root_path)

    def work_dir(self, job_id: str) -> Path:
        """The local folder a running job writes into (the final place unless results are remote)."""
        return (self.staging if self.remote else self.root_path) / job_id

    def files(self, job_id: str) -> JobFiles:
        return JobFiles(self, job_id)

    def commit(self, job_id: str) -> None:
        """Make a finished job's files readable by every server: upload the staging folder (remote)."""
        if not self.remote:
            return
        work = self.work_dir(job_id)
        if not work.is_dir():
            return  # only inline values: nothing to upload
        try:
            self.fs.put(str(work), f"{self.url}/{job_id}", recursive=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def remove(self, job_id: str) -> None:
        """Delete a job's files (local folder, and remote prefix); nothing there is no error."""
        shutil.rmtree(self.work_dir(job_id), ignore_errors=True)
        if not self.remote:
            return
        prefix = f"{self.url}/{job_id}"
        try:
            self.fs.rm(prefix, recursive=True)
        except FileNotFoundError:
            pass
        except Exception:  # noqa: BLE001 - store unreachable: logged; retention's next sweep has no record left
            log.warning("could not delete the results of job %s from %s", job_id, self.url, exc_info=True)
        self.fs.invalidate_cache(prefix)

    def check(self) -> None:
        """Raise when the object store or its bucket cannot be reached (asks for the bucket's info)."""
        if self.remote:
            bucket = self.url.split("://", 1)[1].split("/", 1)[0]
            self.fs.info(f"{self.protocol}://{bucket}", refresh=True)
