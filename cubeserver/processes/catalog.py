"""The built-in processes, by id."""

from __future__ import annotations

from .base import Process
from .library.anomaly import Anomaly
from .library.buffer import Buffer
from .library.coarsen import Coarsen
from .library.echo import Echo
from .library.temporal_aggregate import TemporalAggregate
from .library.threshold import ThresholdExceedance
from .library.zonal import ZonalStatistics

BUILTIN = (TemporalAggregate, Anomaly, ThresholdExceedance, ZonalStatistics, Coarsen, Buffer, Echo)


def builtin_processes() -> dict[str, Process]:
    return {p.id: p() for p in BUILTIN}
