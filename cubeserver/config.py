"""The YAML configuration as pydantic models: one clear line per bad key.

The minimal collection is an id and a path; everything else is inferred from the data.
Relative paths are resolved against the config file's folder. Each collection is validated
on its own, so one run names every bad key of every collection (`collections.<id>.<key>`);
a lenient load keeps the healthy collections and lists the broken ones (`problems`), which
the registry then adds the data problems to (see registry.Registry).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator

from .auth.settings import Access, AuthConfig
from .render.styles import VariableStyles
from .timeseries.settings import TimeSeriesConfig
# the server-wide sections live in their own module; re-exported here (`from cubeserver.config import LimitsConfig`)
from .config_sections import (DaskConfig, HTTPConfig, JobsConfig, LimitsConfig, LiveConfig, McpConfig,  # noqa: F401
                              RemoteConfig, Strict, TilesConfig, duration_or_none, seconds)

_seconds = seconds  # the old private name

DEFAULT_CONFIG = Path(__file__).with_name("default_config.yaml")

FORMATS_BY_SUFFIX = {
    ".nc": "netcdf", ".nc4": "netcdf", ".netcdf": "netcdf", ".h5": "netcdf", ".hdf5": "netcdf", ".cdf": "netcdf",
    ".zarr": "zarr",
    ".tif": "geotiff", ".tiff": "geotiff",
    ".grib2": "grib", ".grib": "grib", ".grb2": "grib", ".grb": "grib", ".grib1": "grib",
    ".geojson": "geojson", ".json": "geojson", ".gpkg": "vector", ".shp": "vector", ".fgb": "vector",
}
VECTOR_FORMATS = ("geojson", "vector")


class ConfigError(ValueError):
    """A config that cannot be served; `problems` holds one line per problem (`collections.<id>.<key>: ...`)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class AxisOverrides(Strict):
    """Names of the dataset's dimensions, for files whose CF attributes do not say."""

    x: str | None = None
    y: str | None = None
    z: str | None = None
    t: str | None = None
    z_positive: Literal["up", "down"] | None = Field(
        default=None, description="direction of the z axis when the file has no `positive` attribute (depths: down)")


class IcechunkRef(Strict):
    """Which version of an Icechunk repository a collection serves: one of a branch (default main), a tag or a snapshot."""

    branch: str | None = None
    tag: str | None = None
    snapshot: str | None = None

    @model_validator(mode="after")
    def _one(self):
        if sum(v is not None for v in (self.branch, self.tag, self.snapshot)) > 1:
            raise ValueError("give one of branch, tag or snapshot")
        return self


class CollectionConfig(Strict):
    path: str = Field(description="file, directory or glob (glob: many files opened as one dataset); or a URL "
                      "s3://, gs://, az://, https:// (cubeserver[remote])")
    format: Literal["netcdf", "zarr", "geotiff", "grib", "geojson", "vector", "kerchunk", "icechunk"] | None = Field(
        default=None, validate_default=True, description="inferred from the path's suffix (a folder: zarr) when left out")
    title: str | None = None
    description: str | None = None
    keywords: list[str] = []
    license: str | None = None
    attribution: str | None = None
    variables: list[str] | None = Field(default=None, description="expose only these variables")
    chunks: dict[str, int] | None = Field(default=None, description="dask chunk size per dimension; -1: the whole dimension")
    crs: str | None = Field(default=None, description="CRS override, e.g. EPSG:4326")
    axes: AxisOverrides = AxisOverrides()
    locations: str | None = Field(default=None, description="id of a Features collection used as EDR named locations")
    time_property: str | None = Field(default=None, description="features: property holding the time")
    id_property: str | None = Field(default=None, description="features: property holding the feature id")
    reference_time: str | None = Field(default=None, description="dimension holding forecast reference times (EDR instances)")
    access: Access | None = Field(default=None, description="private collection: roles that may see it (needs auth)")
    styles: dict[str, VariableStyles] = Field(default={}, description="map styles per variable (cubeserver.render.styles)")
    timeseries: TimeSeriesConfig | None = Field(default=None, description="a copy chunked for time series "
                                                "(`cubeserver build-timeseries`); `true` for the defaults")
    storage_options: dict = Field(default={}, repr=False, description="fsspec options of a remote path (key, "
                                  "secret, endpoint_url, anon ...); never logged. Credentials may also come from the "
                                  "environment (AWS_ACCESS_KEY_ID ...)")
    refresh: str | None = Field(default=None, description="poll interval ('30s', '5m'): new files of a glob, a new "
                                "Zarr/Icechunk version or a changed reference are opened and swapped in without a restart")
    icechunk: IcechunkRef | None = Field(default=None, description="format icechunk: the branch, tag or snapshot served")

    @field_validator("refresh")
    @classmethod
    def _refresh_duration(cls, v):
        return duration_or_none(v, "'30s', '5m'")

    @property
    def remote(self) -> bool:
        return is_url(self.path)

    @field_validator("timeseries", mode="before")
    @classmethod
    def _timeseries_flag(cls, v):
        return {} if v is True else None if v is False else v

    @field_validator("crs")
    @classmethod
    def _crs_known(cls, v):
        if v is None:
            return v
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(v)
        except CRSError:
            raise ValueError(f"unknown CRS {v!r} (use e.g. 'EPSG:4326')") from None
        return v

    @field_validator("path")
    @classmethod
    def _path_exists(cls, v: str, info: ValidationInfo):
        root = (info.context or {}).get("root")
        if is_url(v):
            if v.split("://", 1)[0].lower() not in URL_SCHEMES:
                raise ValueError(f"{v.split('://', 1)[0]!r} URLs are not served (use one of {', '.join(URL_SCHEMES)})")
            return v
        if root is not None and not any(ch in v for ch in "*?[") and not _resolve(root, v).exists():
            raise ValueError(f"{v!r} does not exist")
        return v

    @field_validator("chunks")
    @classmethod
    def _chunk_sizes(cls, v):
        bad = [f"{dim}: {n} is not a chunk size (a positive number of cells, or -1 for the whole dimension)"
               for dim, n in (v or {}).items() if n == 0 or n < -1]
        if bad:
            raise ValueError("; ".join(bad))
        return v

    @field_validator("format")
    @classmethod
    def _infer_format(cls, v, info: ValidationInfo):
        if v is not None or "path" not in info.data:  # a bad path is reported on its own
            return v
        root = (info.context or {}).get("root") or Path(".")
        text = info.data["path"]
        p = Path(text.split("://", 1)[1].rstrip("/")) if is_url(text) else _resolve(root, text)
        fmt = FORMATS_BY_SUFFIX.get(p.suffix.lower())
        if fmt is None and not is_url(text) and p.is_dir():
            fmt = "zarr"
        if fmt is None:
            raise ValueError(f"cannot tell the format of {info.data['path']!r} from its name: set 'format' to one of "
                             "netcdf, zarr, geotiff, grib, geojson, vector")
        return fmt


URL_SCHEMES = ("s3", "gs", "gcs", "az", "abfs", "abfss", "http", "https", "memory")


def is_url(path: str) -> bool:
    """A remote (fsspec) location rather than a local path: `scheme://...`."""
    head, sep, _ = str(path).partition("://")
    return bool(sep) and head.isalnum() and len(head) > 1


def _resolve(root: Path, path: str) -> Path:
    p = Path(os.path.expanduser(path))
    return p if p.is_absolute() else (Path(root) / p)


class ServerConfig(Strict):
    title: str = "cubeserver"
    description: str = "OGC API EDR, Coverages, Features and Processes over lazy datacubes"
    base_url: str | None = Field(default=None, description="public URL when behind a proxy")
    state_dir: str = "state"
    collections: dict[str, CollectionConfig] = {}
    limits: LimitsConfig = LimitsConfig()
    dask: DaskConfig = DaskConfig()
    http: HTTPConfig = HTTPConfig()
    jobs: JobsConfig = JobsConfig()
    tiles: TilesConfig = TilesConfig()
    mcp: McpConfig = McpConfig()
    remote: RemoteConfig = RemoteConfig()
    live: LiveConfig = LiveConfig()
    auth: AuthConfig | None = Field(default=None, description="access control; without it the server is open")
    skip_broken: bool = Field(default=False, description="serve the healthy collections when some cannot be opened "
                              "(each broken one is logged); `serve --skip-broken` does the same")
    root: Path = Field(default=Path("."), exclude=True, description="folder relative paths resolve against")

    @field_validator("collections")
    @classmethod
    def _ids(cls, v):
        for cid in v:
            if not cid or not all(c.isalnum() or c in "-_." for c in cid):
                raise ValueError(f"collection id {cid!r} may only use letters, digits, '-', '_' and '.'")
        return v

    _problems: dict[str, list[str]] = PrivateAttr(default_factory=dict)
    _probes: dict[str, CollectionConfig] = PrivateAttr(default_factory=dict)
    _order: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _locations_exist(self):
        problems = [
            f"collections.{cid}.locations: no collection {c.locations!r}"
            for cid, c in self.collections.items()
            if c.locations and c.locations not in self.collections
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def problems(self) -> dict[str, list[str]]:
        """Schema problems per collection id found by a lenient load (those collections are not in `collections`)."""
        return self._problems

    @property
    def probes(self) -> dict[str, CollectionConfig]:
        """Broken collections with a usable path and format: opened only to report their data problems too."""
        return self._probes

    @property
    def configured_ids(self) -> list[str]:
        """Every collection id of the config file, healthy or not, in the file's order."""
        return self._order or list(self.collections)

    def resolve(self, path: str) -> Path | str:
        """A local path against `root`; a URL unchanged (a str)."""
        return path if is_url(path) else _resolve(self.root, path)

    @property
    def state_path(self) -> Path:
        return self.resolve(self.state_dir)


def _format_errors(err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.extend(f"{loc + ': ' if loc else ''}{m.strip()}" for m in msg.split("; "))
    return lines


def load_config(path: str | os.PathLike | None = None, lenient: bool = False) -> ServerConfig:
    """Read and validate a YAML config; raise ConfigError with one line per problem.

    `lenient`: collections with schema problems are left out and listed in `problems`
    instead (see `config_from_dict`); problems outside `collections` still raise.
    """
    path = Path(path or os.environ.get("CUBESERVER_CONFIG") or DEFAULT_CONFIG)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError([f"config file {str(path)!r} not found"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"config file {str(path)!r} cannot be read: {e}"]) from None
    except yaml.YAMLError as e:
        raise ConfigError([f"{path.name}: not valid YAML: {e}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError([f"{path.name}: the top level must be a mapping with a 'collections' key"])
    root = path.resolve().parent
    if path.resolve() == DEFAULT_CONFIG.resolve():
        root = Path(os.environ.get("CUBESERVER_DATA_ROOT", DEFAULT_DATA_ROOT()))
    if os.environ.get("CUBESERVER_STATE_DIR"):
        raw = {**raw, "state_dir": os.environ["CUBESERVER_STATE_DIR"]}
    return config_from_dict(raw, root, lenient=lenient)


def config_from_dict(raw: dict, root: Path, lenient: bool = False) -> ServerConfig:
    """Validate a config mapping; relative paths resolve against `root`.

    Every collection is validated on its own, so one run reports the problems of all of
    them, each line naming `collections.<id>.<key>`. Strict (default): any problem raises
    ConfigError with all lines. `lenient`: only problems outside `collections` raise; broken
    collections are left out of `collections` and their lines kept in `problems`.
    """
    entries = raw.get("collections")
    top: list[str] = []
    if entries is None:
        entries = {}
    elif not isinstance(entries, dict):
        top.append("collections: must be a mapping of collection id -> settings (at least 'path')")
        entries = {}
    try:
        server = ServerConfig.model_validate({**raw, "collections": {}, "root": root}, context={"root": root})
    except ValidationError as e:
        top.extend(_format_errors(e))
        server = None
    good: dict[str, CollectionConfig] = {}
    problems: dict[str, list[str]] = {}
    probes: dict[str, CollectionConfig] = {}
    for cid, entry in entries.items():
        cid = str(cid)
        cc, lines, probe = _collection(cid, entry, root)
        if lines:
            problems[cid] = lines
            if probe is not None:
                probes[cid] = probe
        else:
            good[cid] = cc
    for cid, cc in {**probes, **good}.items():
        if cc.locations and cc.locations not in entries:
            problems.setdefault(cid, []).append(f"collections.{cid}.locations: no collection {cc.locations!r}")
        if cc.access is not None and server is not None and server.auth is None:
            problems.setdefault(cid, []).append(f"collections.{cid}.access: there is no 'auth' section, so nobody "
                                                "could be identified to see this collection")
    if top or (problems and not lenient):
        raise ConfigError(top + [line for lines in problems.values() for line in lines])
    server.collections = good
    server._problems = problems
    server._probes = probes
    server._order = [str(cid) for cid in entries]
    return server


def _collection(cid: str, entry, root: Path) -> tuple[CollectionConfig | None, list[str], CollectionConfig | None]:
    """(config, problem lines, probe) of one collection entry; the probe leaves out the bad keys."""
    where = f"collections.{cid}"
    lines = []
    if not cid or not all(c.isalnum() or c in "-_." for c in cid):
        lines.append(f"{where}: collection id {cid!r} may only use letters, digits, '-', '_' and '.'")
    if not isinstance(entry, dict):
        return None, lines + [f"{where}: must be a mapping with at least 'path'"], None
    try:
        cc = CollectionConfig.model_validate(entry, context={"root": root})
    except ValidationError as e:
        lines.extend(f"{where}.{line}" for line in _format_errors(e))
        bad = {str(err["loc"][0]) for err in e.errors() if err["loc"]}
        if bad & {"path", "format"}:
            return None, lines, None
        try:  # the other keys are fine: open it anyway, to report data problems in the same run
            probe = CollectionConfig.model_validate({k: v for k, v in entry.items() if k not in bad},
                                                    context={"root": root})
        except ValidationError:
            probe = None
        return None, lines, probe
    return cc, lines, (cc if lines else None)


def DEFAULT_DATA_ROOT() -> Path:  # noqa: N802 - reads like a constant at the call site
    """The project checkout (for the bundled `datasets/`), else the current folder."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "datasets").is_dir() else Path.cwd()
