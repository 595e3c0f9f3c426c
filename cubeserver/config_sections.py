"""The server-wide sections of the configuration: `limits`, `dask`, `jobs`, `http` (pydantic models).

`cubeserver.config` re-exports them with the collection models and the loader; `seconds` reads the
durations these sections take ('90s', '15m', '12h', '7d').
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def seconds(v) -> float | None:
    """12, '90', '90s', '15m', '12h', '7d' -> seconds (> 0); None when it is not such a duration."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = str(v).strip().lower()
    factor = units.get(text[-1:], None)
    number = text[:-1] if factor else text
    try:
        seconds = float(number) * (factor or 1)
    except ValueError:
        return None
    return seconds if seconds > 0 and seconds != float("inf") else None


def duration_or_none(v, examples: str = "'90s', '15m', '12h', '7d'"):
    """A config validator's check: `v` unchanged when it is None or a duration `seconds` reads.
    Raises ValueError naming the allowed spellings otherwise."""
    if v is not None and seconds(v) is None:
        raise ValueError(f"{v!r} is not a duration; use seconds or e.g. {examples}")
    return v


# the `limits` library's synchronous storages (limits.storage.storage_from_string)
RATE_STORAGE_SCHEMES = ("memory", "redis", "rediss", "redis+unix", "redis+cluster", "redis+sentinel", "memcached",
                        "mongodb", "mongodb+srv")


class LimitsConfig(Strict):
    """Per-request and server-wide limits (issue 13): each a clear 4xx/503 when passed."""

    max_cells: int = Field(default=50_000_000, gt=0, description="cells per request before 413")
    chunk_cache_bytes: int = Field(default=256 * 1024 * 1024, ge=0, description="in-process cache of decoded "
                                   "chunks shared by requests (bytes; never stale: keyed by the source file's or Zarr "
                                   "chunk's version); 0 disables it")
    max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0, description="request body size before 413")
    max_url_bytes: int = Field(default=64 * 1024, gt=0, description="path + query string length before 414")
    max_jobs_per_identity: int = Field(default=50, gt=0, description="queued + running jobs of one identity "
                                       "(or of all anonymous clients together) before 429")
    max_jobs: int = Field(default=1000, gt=0, description="queued + running jobs on the server before 503")
    job_time_limit_s: float = Field(default=3600, gt=0, description="a running job is stopped (failed, its dask work "
                                    "cancelled) after this many seconds")
    execute_rate: str | None = Field(default="600/minute", description="process executions per identity (or client "
                                     "address), e.g. '10/second', '120/minute'; null: unlimited")
    data_rate: str | None = Field(default=None, description="EDR/Coverages/Features data queries per identity; null: "
                                  "unlimited (Zarr chunk reads are never counted)")
    rate_storage: str | None = Field(
        default=None, repr=False,
        description="where the rate-limit counts live: unset or 'memory://' (each server process counts its own "
        "share), or a `limits` storage URI shared by every process and machine: 'redis://host:6379/0', "
        "'rediss://...', 'redis+sentinel://...', 'redis+cluster://...', 'memcached://host:11211' (install the extra "
        "cubeserver[redis] or pymemcache). The environment variable CUBESERVER_RATE_STORAGE overrides it.")
    memory_budget_bytes: int | None = Field(
        default=None, gt=0, description="estimated bytes of all data answers in flight before a 503 (default: a "
        "quarter of the machine's memory, at most 4 GiB)")

    @field_validator("execute_rate", "data_rate")
    @classmethod
    def _rate(cls, v):
        if v is None:
            return v
        from limits import parse

        try:
            parse(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a rate; use e.g. '10/second', '120/minute', '1000/hour'") from None
        return v

    @field_validator("rate_storage")
    @classmethod
    def _rate_storage(cls, v):
        if v is None or v.split("://", 1)[0] in RATE_STORAGE_SCHEMES and "://" in v:
            return v
        raise ValueError(f"must be a storage URI starting with one of {', '.join(s + '://' for s in RATE_STORAGE_SCHEMES)}")

    @property
    def rate_storage_setting(self) -> str:
        """The effective storage URI: CUBESERVER_RATE_STORAGE wins over the file (keeps passwords out of the YAML)."""
        return os.environ.get("CUBESERVER_RATE_STORAGE") or self.rate_storage or "memory://"

    def memory_budget(self) -> int:
        """The configured budget, or min(RAM / 4, 4 GiB)."""
        if self.memory_budget_bytes:
            return self.memory_budget_bytes
        try:
            ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            ram = 8 * 2**30
        return min(ram // 4, 4 * 2**30)
    features_default_limit: int = Field(default=10, gt=0)
    features_max_limit: int = Field(default=10_000, gt=0)


class DaskConfig(Strict):
    scheduler_address: str | None = None
    workers: int = Field(default=2, gt=0)
    threads_per_worker: int = Field(default=1, gt=0)
    memory_limit: str = "2GiB"


class JobsConfig(Strict):
    store: str | None = Field(
        default=None, repr=False,
        description="where job records live: unset or 'sqlite' (state_dir/jobs.sqlite, one machine), "
                    "'sqlite:PATH', or 'postgresql://user@host:port/db' (shared by several server processes "
                    "and machines; psycopg 3). The environment variable CUBESERVER_JOBS_STORE overrides it.")

    results: str | None = Field(
        default=None,
        description="where job result files live: unset -> state_dir/jobs/ (one machine); a folder path (relative to "
                    "the config file; e.g. a shared NFS mount); or an fsspec URL such as 's3://bucket/prefix' (install "
                    "cubeserver[s3]), 'gs://...', 'az://...', shared by every server process and machine. The "
                    "environment variable CUBESERVER_JOBS_RESULTS overrides it.")
    results_options: dict = Field(
        default_factory=dict, repr=False,
        description="fsspec storage options of `results`, e.g. {endpoint_url: 'http://minio:9000'} for an "
                    "S3-compatible server; credentials best come from the environment (AWS_ACCESS_KEY_ID, "
                    "AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_PROFILE, ...)")

    retention: str | float | None = Field(
        default="7d", description="finished jobs (record, result files, job-{id} collection) are removed this long "
        "after they were created: seconds, or a number with s/m/h/d (e.g. '12h', '30d'); null: kept for ever")

    @field_validator("retention")
    @classmethod
    def _retention(cls, v):
        return duration_or_none(v, "'90m', '12h', '7d'")

    def retention_seconds(self) -> float | None:
        return None if self.retention is None else seconds(self.retention)

    @field_validator("results")
    @classmethod
    def _results(cls, v):
        return validate_setting(v)

    @model_validator(mode="after")
    def _options_need_url(self):
        if self.results_options and not (self.results and "://" in self.results):
            raise ValueError("results_options: storage options need an object-store URL in jobs.results "
                             "(e.g. s3://bucket/prefix)")
        return self

    @property
    def results_setting(self) -> str | None:
        """The effective `results`: CUBESERVER_JOBS_RESULTS wins over the file."""
        env = os.environ.get("CUBESERVER_JOBS_RESULTS")
        return validate_setting(env) if env else self.results

    @field_validator("store")
    @classmethod
    def _store(cls, v):
        if v is None or v == "sqlite" or v.startswith(("sqlite:", "postgresql://", "postgres://")):
            return v
        raise ValueError("must be 'sqlite', 'sqlite:PATH' or a postgresql://user@host:port/db URL")

    @property
    def store_setting(self) -> str | None:
        """The effective setting: CUBESERVER_JOBS_STORE wins over the file (keeps credentials out of the YAML)."""
        return os.environ.get("CUBESERVER_JOBS_STORE") or self.store


def validate_setting(value: str | None) -> str | None:
    """Check `jobs.results`: a path, or a URL whose protocol fsspec knows and whose library is installed."""
    if not value or "://" not in value or value.startswith("file://"):
        return value
    protocol = value.split("://", 1)[0]
    try:
        import fsspec
        from fsspec.registry import known_implementations, registry
    except ImportError:
        raise ValueError(f"{protocol}:// needs fsspec and the store's library, e.g. pip install 'cubeserver[s3]'") from None
    if protocol not in registry and protocol not in known_implementations:
        raise ValueError(f"{protocol}:// is not a storage fsspec knows; use e.g. s3://bucket/prefix, gs://..., "
                         "az://..., or a folder path")
    if not value.split("://", 1)[1].strip("/"):
        raise ValueError(f"{value!r} names no bucket; use e.g. {protocol}://bucket/prefix")
    try:
        fsspec.get_filesystem_class(protocol)
    except ImportError as e:
        hint = " (pip install 'cubeserver[s3]')" if protocol in ("s3", "s3a") else ""
        raise ValueError(f"{protocol}:// needs a library that is not installed{hint}: {e}") from None
    return value


class HTTPConfig(Strict):
    cors_origins: list[str] = Field(default=["*"], description="origins browsers may read answers from (GET/HEAD)")
    cors_write_origins: list[str] = Field(
        default=[], description="origins whose pages may POST/DELETE (execute, dismiss); none by default")
    trusted_hosts: list[str] = Field(
        default=["*"], description="Host header values answered (exact or *.domain); others get a 400. "
        "Set it (or base_url) in production so links never reflect a client's Host")
    forwarded_prefix: bool = Field(
        default=False, description="serve under the sub-path a reverse proxy names in X-Forwarded-Prefix (e.g. "
        "/cubeserver): links then carry it. Only behind a proxy that sets (or removes) that header")
    content_security_policy: str | None = Field(default=None, description="replaces the CSP sent with HTML pages")
    gzip_min_size: int = Field(default=1024, ge=0)
    cache_control: str = "public, max-age=60"


class TilesConfig(Strict):
    """OGC API - Tiles and WMS map answers: caching."""

    cache_dir: str | None = Field(default=None, description="folder of the on-disk tile cache (relative to the "
                                  "config file); unset: no disk cache (tiles still carry ETags and Cache-Control)")
    cache_bytes: int = Field(default=512 * 1024 * 1024, gt=0, description="size bound of the disk cache in bytes; "
                             "the least recently used tiles are removed beyond it")
    cache_control: str = Field(default="public, max-age=3600", description="Cache-Control of tiles and WMS maps; "
                               "ETags follow the source file's modification time, so a revalidation is cheap")


class McpConfig(Strict):
    """The Model Context Protocol server (cubeserver.mcp): `/mcp` over Streamable HTTP and `cubeserver mcp` over stdio."""

    enabled: bool = Field(default=True, description="mount the MCP endpoint at /mcp (stdio works either way)")
    max_values: int = Field(default=2000, ge=10, le=1_000_000, description="numbers one tool result may hold at "
                            "most: longer series are downsampled (block means, with a summary of the full series), "
                            "longer tables cut (with the link to the full answer); agents' context windows are small")
    max_image_side: int = Field(default=1024, ge=16, le=4096, description="pixels per side of a render_map image")
    max_features: int = Field(default=100, ge=1, le=10_000, description="features one features_query returns at most")



class RemoteConfig(Strict):
    """Remote collections (s3://, gs://, az://, https://): reads through fsspec (issue 16)."""

    block_size: int = Field(default=2 * 1024 * 1024, gt=0, description="bytes fetched per ranged read of a remote "
                            "NetCDF/HDF5 file (GeoTIFFs: GDAL reads what each request needs)")
    block_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0, description="bytes of remote blocks kept in memory "
                                   "per remote NetCDF/HDF5 collection (fsspec 'blockcache', split among the files of a "
                                   "glob; 0: read-ahead only). Zarr chunks are kept decoded by limits.chunk_cache_bytes")
    timeout_s: float = Field(default=20, gt=0, description="connect/read timeout of one remote request")
    retry_s: float = Field(default=30, gt=0, description="a remote collection that could not be opened (answering "
                           "503) is tried again this often")


class LiveConfig(Strict):
    """Live collections: reloads and change notifications (issue 16)."""

    poll_s: float = Field(default=2, gt=0, description="how often each server process looks at the reload version "
                          "file in state_dir (written by POST /admin/reload and `cubeserver reload`)")
    grace_s: float = Field(default=60, ge=0, description="a replaced dataset is closed this long after the swap, "
                           "so requests in flight finish on it")
    stream_s: float = Field(default=60, gt=0, description="an event stream (/collections/{id}/events) ends after "
                            "this long; clients reconnect (the stream says `retry`). A server shutting down waits for open streams, so "
                            "keep it short")
    heartbeat_s: float = Field(default=15, gt=0, description="a comment line is sent this often on an idle stream")
