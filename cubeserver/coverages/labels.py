"""Axis labels of a coverage: the names the domainset advertises and `subset`/`scale-*` accept.

Labels are the native dimension names, X first, then Y, Z, T and any extra dimension
(GDAL's OGC API driver takes the first two labels as X and Y). Every label is also
accepted case-insensitively, and so are the usual aliases: Lon/Long/Longitude/x/E
for X, Lat/Latitude/y/N for Y, h/z/level/height/elevation/depth for Z, time/t/date for T.
A native name always wins over an alias of another axis. On a projected coverage,
Lon/Lat (and Long/Longitude/Latitude) values are degrees: the subset is then in CRS84.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..axes import AxisModel
from ..errors import BadRequest

ALIASES = {
    "x": ("lon", "long", "longitude", "x", "e", "easting"),
    "y": ("lat", "latitude", "y", "n", "northing"),
    "z": ("h", "z", "level", "height", "elevation", "depth"),
    "t": ("time", "t", "date", "datetime"),
}

DEGREE_ALIASES = ("lon", "long", "longitude", "lat", "latitude")


@dataclass(frozen=True)
class Axis:
    label: str  # as advertised (the native dimension name)
    dim: str
    kind: str  # x, y, z, t or other


def coverage_axes(axes: AxisModel) -> list[Axis]:
    out = [Axis(axes.x, axes.x, "x"), Axis(axes.y, axes.y, "y")]
    if axes.z:
        out.append(Axis(axes.z, axes.z, "z"))
    if axes.t:
        out.append(Axis(axes.t, axes.t, "t"))
    out += [Axis(d, d, "other") for d in axes.others]
    return out


def labels(axes: AxisModel) -> list[str]:
    return [a.label for a in coverage_axes(axes)]


def resolve(axes: AxisModel, name: str, param: str) -> Axis:
    """The axis a client's label means, or 400 listing the labels this coverage has."""
    all_axes = coverage_axes(axes)
    key = name.strip().lower()
    for a in all_axes:
        if a.label.lower() == key:
            return a
    for a in all_axes:
        if key in ALIASES.get(a.kind, ()):
            return a
    advertised = ", ".join(a.label for a in all_axes)
    raise BadRequest(f"{param}: unknown axis {name!r}; this coverage's axes are {advertised} "
                     "(Lon/Lat/x/y/h/time aliases are accepted too)", parameter=param)
