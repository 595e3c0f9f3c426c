"""Style configuration (`collections.<id>.styles` in the YAML config), validated by pydantic.

```yaml
styles:
  SST:                        # one entry per variable
    colormap: cmo.thermal     # a matplotlib colormap name, or cmocean's as cmo.<name>
    range: [-2, 32]           # value range of the colour ramp (units of the variable); default: robust 2-98 %
    kind: continuous          # continuous | categorical | contour | filled-contour
    levels: 12                # contour levels: a count, or the list of values
    extra:                    # more named styles of this variable, listed at /collections/{id}/styles
      - {id: anomaly, colormap: RdBu_r, range: [-5, 5]}
```
Every name is checked against matplotlib's colormap registry (with cmocean's maps registered),
so `check-config` rejects a misspelt colormap with the list of close names.
"""

from __future__ import annotations

import difflib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

KINDS = ("continuous", "categorical", "contour", "filled-contour")
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


def colormap_names() -> list[str]:
    """Every colormap name a style may use: matplotlib's registry plus cmocean's `cmo.*` maps."""
    from matplotlib import colormaps

    try:
        import cmocean  # noqa: F401 - registers the cmo.* colormaps in matplotlib
    except ImportError:  # pragma: no cover - cmocean is a dependency
        pass
    return sorted(colormaps)


def get_colormap(name: str):
    """The matplotlib Colormap called `name` (a matplotlib or `cmo.` cmocean name); KeyError if unknown."""
    from matplotlib import colormaps

    if name not in colormaps:
        colormap_names()  # registers cmocean's maps, then retry
    return colormaps[name]


def check_colormap(name: str) -> str:
    """`name` if it is a known colormap, else ValueError naming close matches."""
    names = colormap_names()
    if name in names:
        return name
    close = difflib.get_close_matches(name, names, n=4, cutoff=0.6)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ValueError(f"unknown colormap {name!r}: use a matplotlib name (viridis, RdBu_r, ...) or a cmocean one "
                     f"(cmo.thermal, cmo.haline, ...){hint}")


class StyleConfig(BaseModel):
    """How one variable is drawn: colormap, value range, kind and contour levels."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    colormap: str | None = Field(default=None, description="matplotlib or cmocean (cmo.<name>) colormap name")
    range: tuple[float, float] | None = Field(default=None, description="[min, max] of the colour ramp, in the "
                                              "variable's units; default: the data's robust 2-98 % range")
    kind: Literal["continuous", "categorical", "contour", "filled-contour"] | None = None
    levels: int | list[float] | None = Field(default=None, description="contour levels: a count or the values")

    @field_validator("colormap")
    @classmethod
    def _known_colormap(cls, v):
        return None if v is None else check_colormap(v)

    @field_validator("range")
    @classmethod
    def _ordered(cls, v):
        if v is not None and not (v[0] < v[1]):
            raise ValueError(f"range [{v[0]}, {v[1]}]: the first value must be below the second")
        return v

    @field_validator("levels")
    @classmethod
    def _levels(cls, v):
        if isinstance(v, int) and not 2 <= v <= 100:
            raise ValueError(f"levels: {v} is not a level count between 2 and 100")
        if isinstance(v, list) and (len(v) < 2 or sorted(v) != v or len(set(v)) != len(v)):
            raise ValueError("levels: give at least two increasing values")
        return v


class NamedStyleConfig(StyleConfig):
    """An extra style of a variable, with its own id (letters, digits, `_.-`)."""

    id: str

    @field_validator("id")
    @classmethod
    def _id(cls, v):
        if not _ID.match(v) or v == "default":
            raise ValueError(f"style id {v!r}: use letters, digits, '_', '.', '-' (and not 'default')")
        return v


class VariableStyles(StyleConfig):
    """The default style of one variable plus its `extra` named styles."""

    extra: list[NamedStyleConfig] = []

    @model_validator(mode="after")
    def _unique_ids(self):
        ids = [s.id for s in self.extra]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"extra: style ids given more than once: {', '.join(dup)}")
        return self
