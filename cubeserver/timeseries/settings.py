"""The `timeseries:` key of a collection (issue 15 item 5): where its time-series copy lives and how it is chunked."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class TimeSeriesConfig(BaseModel):
    """An optional second copy of a gridded collection chunked for time series (all times x a few cells).

    `path`: the copy's Zarr store (relative to the config file); default `<state_dir>/timeseries/<id>.zarr`.
    `chunks`: chunk size per dimension of the copy (-1: the whole dimension); dimensions not named get
    all times on the time axis, one value on other non-spatial axes and a square of x/y cells sized so
    a chunk holds about `chunk_bytes` (default 1 MiB) of decoded values.
    `recheck`: seconds between the full checks of a source with many directories (see layout.py).
    """

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(default=None, description="Zarr store of the copy; default <state_dir>/timeseries/<id>.zarr")
    chunks: dict[str, int] | None = Field(default=None, description="chunk size per dimension; -1: the whole dimension")
    chunk_bytes: int = Field(default=1 << 20, ge=4096, le=1 << 28, description="target decoded bytes per chunk")
    recheck: float = Field(default=1.0, ge=0, le=3600, description="seconds between full checks of a large source")

    @field_validator("chunks")
    @classmethod
    def _chunk_sizes(cls, v):
        bad = [f"{dim}: {n} is not a chunk size (a positive number of cells, or -1 for the whole dimension)"
               for dim, n in (v or {}).items() if n == 0 or n < -1]
        if bad:
            raise ValueError("; ".join(bad))
        return v
