"""Constraint expressions: which variables, and which hyperslab of each (DAP 2.0 section 4.4, DAP4 CE).

DAP2: `?var1,var2[start:stride:stop][i][start:stop]` (the raw query string, percent-encoded);
DAP4: `?dap4.ce=/var1;/var2[start:stride:stop]` with `[]` (all) and `[start:]` (to the end) too.
Indices are 0-based and `stop` is inclusive. A variable either names every dimension or none
(whole). Selections (`&...`), functions and structure members are not offered here: each is a
BadRequest naming what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from ..errors import BadRequest
from .model import DapDataset

_INDEX = re.compile(r"\[([^\[\]]*)\]")
_NAME = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_DAP4_ESCAPE = re.compile(r"\\(.)")
PARAM = "constraint"


@dataclass(frozen=True)
class Hyperslab:
    """start, stride, stop (inclusive) per dimension, validated against the variable's shape."""

    name: str
    ranges: tuple[tuple[int, int, int], ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple((stop - start) // stride + 1 for start, stride, stop in self.ranges)

    @property
    def slices(self) -> tuple[slice, ...]:
        return tuple(slice(start, stop + 1, stride) for start, stride, stop in self.ranges)

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n


def _bad(msg: str) -> BadRequest:
    return BadRequest(msg, parameter=PARAM)


def _range(text: str, size: int, dim: str, name: str, dap4: bool) -> tuple[int, int, int]:
    parts = [p.strip() for p in text.split(":")]
    if dap4 and parts == [""]:
        return (0, 1, size - 1)
    if dap4 and len(parts) >= 2 and parts[-1] == "":
        parts[-1] = str(size - 1)  # [start:] and [start:stride:]: to the end
    if len(parts) > 3 or not all(p.isascii() and p.isdigit() for p in parts):
        raise _bad(f"{name}: index [{text}] on dimension {dim!r} is not [i], [start:stop] or [start:stride:stop] "
                   "with non-negative integers")
    nums = [int(p) for p in parts]
    start, stride, stop = (nums[0], 1, nums[0]) if len(nums) == 1 else \
        (nums[0], 1, nums[1]) if len(nums) == 2 else tuple(nums)
    if stride < 1:
        raise _bad(f"{name}: stride {stride} on dimension {dim!r} must be at least 1")
    if stop < start:
        raise _bad(f"{name}: stop {stop} is before start {start} on dimension {dim!r}")
    if stop >= size:
        raise _bad(f"{name}: index {stop} is past the end of dimension {dim!r} (size {size}, last index {size - 1})")
    return start, stride, stop


def _clause(clause: str, model: DapDataset, dap4: bool) -> Hyperslab:
    m = _NAME.match(clause.strip())
    if not m:
        raise _bad(f"cannot read {clause!r}: write a variable name followed by one [start:stride:stop] per dimension")
    name = unquote(m.group(1).strip())
    if dap4:  # a fully qualified name, in which `\` escapes the next character (`/air\ temp`, `/w\.x`)
        name = _DAP4_ESCAPE.sub(r"\1", name.lstrip("/"))
    if "(" in name:
        raise _bad(f"server functions ({name.split('(')[0]}) are not offered; project variables and hyperslabs only")
    var = model.variables.get(name)
    if var is None and "." in name:  # `var.var`, as some clients address a Grid's array
        head, _, tail = name.partition(".")
        if head == tail:
            var = model.variables.get(head)
    if var is None:
        shown = name if len(name) <= 80 else name[:80] + "..."
        raise _bad(f"no variable {shown!r} in {model.name!r}; variables are {', '.join(model.variables)}")
    groups = _INDEX.findall(m.group(2))
    if not groups:
        return Hyperslab(var.name, tuple((0, 1, n - 1) for n in var.shape))
    if len(groups) != len(var.shape):
        dims = ", ".join(var.dims) or "none: it is a scalar"
        raise _bad(f"{var.name} has {len(var.shape)} dimension(s) ({dims}); give one [start:stride:stop] for each, "
                   f"or none for the whole variable")
    if 0 in var.shape:
        raise _bad(f"{var.name} is empty; it cannot be subset")
    return Hyperslab(var.name, tuple(_range(g, n, d, var.name, dap4) for g, n, d in zip(groups, var.shape, var.dims)))


def _finish(slabs: list[Hyperslab], model: DapDataset) -> list[Hyperslab]:
    if not slabs:
        return [Hyperslab(v.name, tuple((0, 1, n - 1) for n in v.shape)) for v in model.variables.values()]
    seen: dict[str, Hyperslab] = {}
    for s in slabs:
        if s.name in seen and seen[s.name] != s:
            raise _bad(f"{s.name} is asked for twice with different hyperslabs; ask for it once")
        seen[s.name] = s
    order = list(model.variables)
    return sorted(seen.values(), key=lambda s: order.index(s.name))  # answers list variables in dataset order


def parse_dap2(query: str, model: DapDataset) -> list[Hyperslab]:
    """The raw query string of a DAP2 request -> hyperslabs in dataset order (all variables when empty).

    Raises BadRequest (400) for selections, functions, unknown variables, bad or out-of-range indices."""
    text = unquote(query or "").strip()
    projection, amp, selection = text.partition("&")
    if amp and selection.strip():
        raise _bad(f"selections ({selection.strip()[:60]!r}) apply to DAP sequences; gridded data takes only a "
                   "projection with hyperslabs, e.g. ?var[0:1:9][0:1:99][0:1:99]")
    return _finish([_clause(c, model, False) for c in projection.split(",") if c.strip()], model)


def parse_dap4(ce: str | None, model: DapDataset) -> list[Hyperslab]:
    """The `dap4.ce` value of a DAP4 request -> hyperslabs in dataset order (all variables when absent)."""
    text = (ce or "").strip()
    for _ in range(3):  # netCDF-C 4.9 escapes the brackets of `?dap4.ce=` up to three times (%25255b)
        if "%" not in text:
            break
        text = unquote(text)
    if "|" in text or "{" in text:
        raise _bad("DAP4 filters and structure projections are not offered; use /var[start:stride:stop];/var2")
    return _finish([_clause(c, model, True) for c in text.split(";") if c.strip()], model)
