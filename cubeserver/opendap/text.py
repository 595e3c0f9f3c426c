"""The text documents of DAP: DDS and DAS (DAP 2.0 sections 6.1-6.2, 7.1.2), DMR (DAP4 volume 1 section 3).

Names outside the DAP2 identifier characters are percent-escaped (`%20`, `%2E` for a dot, which
would otherwise address a structure member) as the DAP2 grammar asks; DAS strings are quoted with
every `"` and `\\` escaped by a backslash (netCDF-C's lexer reads them back; an unescaped quote ends
the string and drops every attribute after it). Numbers are written in the shortest form that reads
back to the same value (`repr`; float32 in float32 precision), never rounded to 6 digits.
"""

from __future__ import annotations

import math
import re
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .constraint import Hyperslab
from .model import NUMPY, DapDataset, DapVar

_SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_!~*'-+")
_INDENT = "    "
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def dap2_name(name: str) -> str:
    """A DAP2 identifier: characters outside [A-Za-z0-9_!~*'-+] as %XX (UTF-8 bytes)."""
    return "".join(ch if ch in _SAFE else "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in str(name))


def das_string(text: str) -> str:
    """A DAS string literal: double-quoted, `\\` and `"` escaped with a backslash."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(v, dap_type: str) -> str:
    # infinities as Inf/-Inf: pydap's DAS parser reads only inf (any case), netCDF-C's strtod reads both
    if dap_type == "Float32":
        f = np.float32(v)
        return "NaN" if math.isnan(f) else repr(float(f)).replace("inf", "Inf")  # exact when read as a double
    if dap_type == "Float64":
        f = float(v)
        return "NaN" if math.isnan(f) else repr(f).replace("inf", "Inf")
    return str(int(v))


def attr_type(value, protocol: str) -> tuple[str, list]:
    """(DAP type, list of values) of one attribute value; text and anything else as String."""
    if isinstance(value, (bytes, str)):
        return "String", [value.decode("utf-8", "replace") if isinstance(value, bytes) else value]
    arr = np.asarray(value)
    if arr.dtype.kind in "SUO" or arr.size == 0:
        return "String", [str(x) for x in np.atleast_1d(arr).ravel()] or [""]
    vals = np.atleast_1d(arr).ravel()
    if arr.dtype.kind == "b":
        return ("Byte" if protocol == "dap2" else "UInt8"), [int(x) for x in vals]
    if arr.dtype.kind == "f":
        return ("Float32" if arr.dtype.itemsize <= 4 else "Float64"), list(vals)
    if arr.dtype.kind in "iu":
        if protocol == "dap4":
            return {"i1": "Int8", "u1": "UInt8", "i2": "Int16", "u2": "UInt16", "i4": "Int32",
                    "u4": "UInt32", "i8": "Int64", "u8": "UInt64"}[f"{arr.dtype.kind}{arr.dtype.itemsize}"], list(vals)
        # netCDF-C reads DAP2 Byte/UInt16/UInt32 attributes as signed (200 -> -56): unsigned values go out in
        # the next wider signed type, which every client reads as the same number
        if arr.dtype.kind == "i" and arr.dtype.itemsize <= 4:
            return ("Int16" if arr.dtype.itemsize <= 2 else "Int32"), list(vals)
        if arr.dtype.kind == "u" and arr.dtype.itemsize <= 2:
            return ("Int16" if arr.dtype.itemsize == 1 else "Int32"), list(vals)
        if vals.min() >= -2**31 and vals.max() < 2**31:
            return "Int32", list(vals)
        return "Float64", list(vals)
    return "String", [str(x) for x in vals]


def _typed(kind: str | None, value, protocol: str) -> tuple[str, list]:
    if kind is None:
        return attr_type(value, protocol)
    if kind == "String":
        return kind, [str(value)]
    vals = np.atleast_1d(np.asarray(value)).ravel()
    if kind in ("Float32", "Float64"):
        return kind, [float(x) for x in vals]
    if np.asarray(value).dtype.kind == "f" and np.any(~np.isfinite(vals)):
        return attr_type(value, protocol)  # a NaN fill of an integer variable has no integer spelling
    return kind, [np.asarray(x).astype(NUMPY[kind]).item() for x in vals]


def _das_lines(attrs: dict, level: int, protocol: str = "dap2", typed: dict | None = None) -> list[str]:
    pad = _INDENT * level
    out = []
    for key, value in attrs.items():
        kind, vals = _typed((typed or {}).get(key), value, protocol)
        if kind == "String":
            text = ", ".join(das_string(v) for v in vals)
        else:
            text = ", ".join(_number(v, kind) for v in vals)
        out.append(f"{pad}{kind} {dap2_name(key)} {text};")
    return out


def das(model: DapDataset) -> str:
    """The DAS of the whole dataset: one container per variable, then NC_GLOBAL."""
    lines = ["Attributes {"]
    for var in model.variables.values():
        typed = var.attributes("dap2")
        lines.append(f"{_INDENT}{dap2_name(var.name)} {{")
        lines += _das_lines({k: v for k, (_, v) in typed.items()}, 2, "dap2", {k: t for k, (t, _) in typed.items()})
        if var.strlen:  # netCDF-C makes DAP2 strings char arrays this long (default 64: longer ones were cut);
            # it reads the flat name (a nested `DODS { Int32 strlen; }` container is not applied by netCDF-C 4.9)
            lines.append(f"{_INDENT * 2}Int32 DODS.strlen {var.strlen};")
        lines.append(f"{_INDENT}}}")
    lines.append(f"{_INDENT}NC_GLOBAL {{")
    lines += _das_lines(model.attrs, 2)
    lines.append(f"{_INDENT}}}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dds(model: DapDataset, slabs: list[Hyperslab]) -> str:
    """The DDS of the variables in `slabs`, each with its hyperslab's shape and its dimension names."""
    lines = ["Dataset {"]
    for s in slabs:
        var = model.variables[s.name]
        dims = "".join(f"[{dap2_name(d)} = {n}]" for d, n in zip(var.dims, s.shape))
        lines.append(f"{_INDENT}{var.dap2} {dap2_name(var.name)}{dims};")
    lines.append(f"}} {dap2_name(model.name)};")
    return "\n".join(lines) + "\n"


def xml_safe(text: str) -> str:
    """`text` with the characters XML 1.0 cannot carry at all (control characters other than tab, newline and
    carriage return, lone surrogates, U+FFFE/U+FFFF) replaced by U+FFFD: one of them makes the whole DMR
    unreadable to netCDF-C and pydap."""
    return _XML_BAD.sub("\ufffd", str(text))


def _xml_attrs(attrs: dict, pad: str, typed: dict | None = None) -> list[str]:
    out = []
    for key, value in attrs.items():
        kind, vals = _typed((typed or {}).get(key), value, "dap4")
        if kind == "String":  # as an XML attribute: a text node would lose "" and " " and turn \r into \n
            inner = "".join(f"<Value value={quoteattr(xml_safe(v))}/>" for v in vals)
        else:
            inner = "".join(f"<Value>{_number(v, kind)}</Value>" for v in vals)
        out.append(f"{pad}<Attribute name={quoteattr(xml_safe(key))} type=\"{kind}\">{inner}</Attribute>")
    return out


def dimension_sizes(model: DapDataset, slabs: list[Hyperslab]) -> dict[str, int | None]:
    """Each dimension's size in the answer; None when the variables slice it differently (then anonymous)."""
    sizes: dict[str, set[int]] = {}
    for s in slabs:
        for d, n in zip(model.variables[s.name].dims, s.shape):
            sizes.setdefault(d, set()).add(n)
    return {d: (next(iter(v)) if len(v) == 1 else None) for d, v in sizes.items()}


def dmr(model: DapDataset, slabs: list[Hyperslab]) -> str:
    """The DMR of the variables in `slabs` (all of them for a `.dmr` without a constraint)."""
    dims = dimension_sizes(model, slabs)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<Dataset xmlns="http://xml.opendap.org/ns/DAP/4.0#" dapVersion="4.0" dmrVersion="1.0" '
             f'name={quoteattr(xml_safe(model.name))}>']
    lines += [f'  <Dimension name={quoteattr(xml_safe(d))} size="{n}"/>' for d, n in dims.items() if n is not None]
    for s in slabs:
        var: DapVar = model.variables[s.name]
        lines.append(f"  <{var.dap4} name={quoteattr(xml_safe(var.name))}>")
        for d, n in zip(var.dims, s.shape):
            named = dims.get(d) is not None
            lines.append(f"    <Dim name={quoteattr('/' + xml_safe(d))}/>" if named else f'    <Dim size="{n}"/>')
        typed = var.attributes("dap4")
        lines += _xml_attrs({k: v for k, (_, v) in typed.items()}, "    ", {k: t for k, (t, _) in typed.items()})
        lines.append(f"  </{var.dap4}>")
    lines += _xml_attrs(model.attrs, "  ")
    lines.append("</Dataset>")
    return "\n".join(lines) + "\n"


def dap2_error(status: int, message: str) -> str:
    """The DAP2 error document (DAP 2.0 section 7.2.4)."""
    return f"Error {{\n    code = {status};\n    message = {das_string(message)};\n}};\n"


def dap4_error(status: int, message: str) -> str:
    """The DAP4 error document (DAP4 volume 1 section 7)."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error httpcode="{status}">\n'
            f"  <Message>{escape(xml_safe(message))}</Message>\n</Error>\n")
