"""CoverageJSON pieces shared by every answer: parameters, referencing, NdArrays, Grid coverages.

Values go straight from numpy into orjson (NaN and nodata become null); no per-value
Python objects. Point-type domains (Point, PointSeries, VerticalProfile, Trajectory)
are built from the same pieces in `covjson_points.py`.
"""

from __future__ import annotations

import re

import numpy as np
import orjson
import xarray as xr

from ..axes import AxisModel, crs_label, crs_uri, is_lonlat, iso_times

MEDIA_TYPE = "application/prs.coverage+json"
GREGORIAN = ("standard", "gregorian", "proleptic_gregorian")


_CF_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def standard_name_uri(std) -> str | None:
    """The NERC vocabulary URI of a CF standard name; None for a name that cannot be one (spaces...)."""
    std = str(std or "")
    return f"http://vocab.nerc.ac.uk/standard_name/{std}/" if _CF_NAME.fullmatch(std) else None


# CF unit strings that are also UCUM codes as written; others ("Deg C", "m s**-1") are not claimed as UCUM
_UCUM_AS_IS = {"K", "m", "s", "kg", "Pa", "hPa", "%", "1", "mm", "cm", "km", "m/s", "W/m2", "kg/m2", "kg/m3",
               "mol/mol", "g/kg", "J/kg", "m2/s", "Cel", "mbar", "ms"}


def unit_symbol(units: str) -> dict | str:
    """CovJSON unit symbol: typed as UCUM only when the string is a UCUM code, else the plain string."""
    if units in _UCUM_AS_IS:
        return {"value": units, "type": "http://www.opengis.net/def/uom/UCUM/"}
    return units


def observed_property_id(var: xr.DataArray) -> str:
    """observedProperty.id (EDR /req/edr/rc-parameters requires one): the NERC vocabulary URI of the
    CF standard_name; a variable without a (valid) standard_name gets its own name, a stable id
    local to the collection (not a vocabulary term)."""
    return standard_name_uri(var.attrs.get("standard_name")) or str(var.name)


def parameter(var: xr.DataArray) -> dict:
    """A CovJSON Parameter from CF attributes (unit symbol, observedProperty with id and label)."""
    a = var.attrs
    label = a.get("long_name") or var.name
    std = a.get("standard_name")
    out = {"type": "Parameter", "description": {"en": str(label)},
           "observedProperty": {"id": observed_property_id(var), "label": {"en": str(std or label)}}}
    units = a.get("units")
    if units:
        out["unit"] = {"label": {"en": str(units)}, "symbol": unit_symbol(str(units))}
    return out


def parameters(ds: xr.Dataset) -> dict:
    return {str(n): parameter(v) for n, v in ds.data_vars.items()}


def horizontal_system(crs) -> dict:
    """CovJSON system of x/y: GeographicCRS for lon/lat, ProjectedCRS otherwise (a rotated pole too:
    its x/y are not longitude/latitude); `id` when the CRS has an OGC URI, else its WKT in `wkt`."""
    kind = "GeographicCRS" if is_lonlat(crs) else "ProjectedCRS"
    uri = crs_uri(crs)
    if uri.startswith("http"):
        return {"type": kind, "id": uri}
    return {"type": kind, "description": {"en": crs_label(crs)}, "wkt": uri}


def vertical_system(axes: AxisModel) -> dict:
    """CovJSON VerticalCRS of the z axis; a parametric (model-level) axis names its CF kind and formula."""
    axis = {"name": {"en": axes.z or "z"}, "direction": "down" if axes.z_positive == "down" else "up"}
    if axes.z_units:
        axis["unit"] = {"symbol": axes.z_units}
    system = {"type": "VerticalCRS"}
    v = axes.vertical
    if v is not None:
        axis["name"] = {"en": f"{axes.z}: {v.standard_name}"}
        if standard_name_uri(v.standard_name):
            axis["id"] = standard_name_uri(v.standard_name)
        system["description"] = {"en": v.describe(axes.z)}
    system["cs"] = {"csAxes": [axis]}
    return system


def referencing(axes: AxisModel, with_z: bool, with_t: bool) -> list[dict]:
    refs = [{"coordinates": ["x", "y"], "system": horizontal_system(axes.crs)}]
    if with_z:
        refs.append({"coordinates": ["z"], "system": vertical_system(axes)})
    if with_t:
        # CovJSON allows "Gregorian" or a URI; CF calendars get a cfconventions URI
        cal = "Gregorian" if axes.calendar in GREGORIAN else f"http://cfconventions.org/calendars/{axes.calendar}"
        refs.append({"coordinates": ["t"], "system": {"type": "TemporalRS", "calendar": cal}})
    return refs


def data_type(values: np.ndarray) -> str:
    return "integer" if values.dtype.kind in "iub" else "float"


def masked_values(var: xr.DataArray) -> np.ndarray:
    """Values with nodata as NaN (orjson writes NaN as null); integers without nodata stay integers."""
    values = np.asarray(var.values)
    nodata = var.attrs.get("_FillValue", var.encoding.get("_FillValue"))
    if values.dtype.kind in "iu" and nodata is not None and np.isfinite(nodata):
        mask = values == nodata
        if mask.any():
            values = values.astype("float64")
            values[mask] = np.nan
    elif values.dtype.kind == "b":
        values = values.astype("int8")
    return values


_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def number_text(values: np.ndarray) -> bytes:
    """A 1-D numeric array as JSON numbers, `[...]`: floats as their shortest round-trip text in their own
    precision (orjson: float32 280.1 -> `280.1`, not `280.1000061035156`), whole floats without `.0`
    (`280.0` -> `280`; JSON numbers either way, CoverageJSON keeps dataType float), NaN as null."""
    flat = np.ascontiguousarray(values).reshape(-1)  # orjson needs C order
    text = orjson.dumps(flat, option=_NUMPY)
    if values.dtype.kind == "f" and flat.size:
        text = _drop_whole_zeros(text, flat)
    return text


def _drop_whole_zeros(text: bytes, flat: np.ndarray) -> bytes:
    """`280.0` -> `280` in orjson's text of `flat`, found from the numbers (finite whole values) and the
    commas that end each value: no search of the text for `.0,` (two frequent characters, megabytes)."""
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(flat) & (flat == np.trunc(flat))
    if not whole.any():
        return text
    buf = np.frombuffer(text, dtype=np.uint8)
    ends = np.append(np.flatnonzero(buf == ord(",")), len(buf) - 1)  # index just past each value: its , or ]
    ends = ends[whole]
    ends = ends[(buf[ends - 1] == ord("0")) & (buf[ends - 2] == ord("."))]  # 1e+20 has no ".0" to drop
    if len(ends) <= 4096:  # a few whole values among many: join the pieces between them
        starts = np.concatenate(([0], ends))
        stops = np.append(ends - 2, len(buf))
        return b"".join(text[a:z] for a, z in zip(starts.tolist(), stops.tolist()))
    keep = np.ones(len(buf), dtype=bool)
    keep[ends - 1] = keep[ends - 2] = False
    return buf[keep].tobytes()


def values_fragment(values: np.ndarray) -> orjson.Fragment:
    """`number_text` as an orjson Fragment, to put in a document that orjson serialises."""
    return orjson.Fragment(number_text(values))


def ndarray(var: xr.DataArray, axis_names: list[str]) -> dict:
    """An NdArray of a variable's values (nodata -> null), written by `number_text`."""
    values = masked_values(var)
    return {
        "type": "NdArray",
        "dataType": data_type(values),
        "axisNames": axis_names,
        "shape": list(values.shape),
        "values": values_fragment(values),
    }


def axis_values(values: np.ndarray) -> dict:
    """Axis values; time as RFC 3339 strings with a zone; numbers in float64 by `number_text` (whole ones
    without `.0`)."""
    values = np.asarray(values)
    if values.dtype.kind == "M" or values.dtype == object:
        return {"values": iso_times(values)}
    return {"values": values_fragment(values.astype("float64") if values.dtype.kind == "f" else values)}


def domain_axes(ds: xr.Dataset, axes: AxisModel) -> tuple[dict, list[str], list[str]]:
    """CovJSON axes for the dims present, in (t, z, y, x) order, plus the matching dataset dims."""
    cov_axes, names, dims = {}, [], []
    for key, dim in (("t", axes.t), ("z", axes.z), ("y", axes.y), ("x", axes.x)):
        if dim and dim in ds.dims:
            cov_axes[key] = axis_values(ds[dim].values)
            names.append(key)
            dims.append(dim)
    return cov_axes, names, dims


def split_extra_dims(ds: xr.Dataset, axes: AxisModel) -> list[tuple[str | None, xr.Dataset]]:
    """CovJSON domains know only x, y, z, t: split on extra dimensions (ERA-Interim's `month`).

    Returns (label, dataset) pairs, one per combination of extra-dimension values,
    labelled like `month=7`; a dataset without extra dimensions is returned whole.
    """
    extra = [d for d in axes.others if d in ds.dims]
    if not extra:
        return [(None, ds)]
    stacked = ds.stack(_extra=extra)
    parts = []
    for i in range(stacked.sizes["_extra"]):
        part = stacked.isel(_extra=i)
        label = ",".join(f"{d}={_plain(part[d].values)}" for d in extra)
        parts.append((label, part.drop_vars(["_extra", *extra], errors="ignore")))
    return parts


def _plain(v):
    v = np.asarray(v)
    return v.item() if v.dtype.kind != "M" else iso_times(v.reshape(1))[0]


def collection_or_single(coverages: list[dict]) -> dict:
    """One coverage as is; several as a CoverageCollection with shared parameters (see `hoist`)."""
    if len(coverages) == 1:
        return coverages[0]
    params = {}
    for c in coverages:
        params.update(c.get("parameters", {}))
    return hoist({"type": "CoverageCollection", "parameters": params, "coverages": coverages})


def hoist(collection: dict) -> dict:
    """A CoverageCollection without repeats: `parameters` that every coverage shares, and a domain
    `referencing` that every domain shares, are written once at collection level and left out of each
    coverage, as CoverageJSON allows (OGC CoverageJSON 1.0, 6.4 / schema coverageCollection.json: a
    coverage takes them from its collection). In place; returns `collection`."""
    covs = collection.get("coverages") or []
    if len(covs) < 2:
        return collection
    params = collection.get("parameters")
    if params is not None and all(c.get("parameters") == params for c in covs):
        for c in covs:
            c.pop("parameters", None)
    domains = [c.get("domain") for c in covs]
    if all(isinstance(d, dict) and "referencing" in d for d in domains):
        refs = domains[0]["referencing"]
        if all(d["referencing"] == refs for d in domains[1:]):
            collection["referencing"] = refs
            for d in domains:
                d.pop("referencing")
    return collection


def grid(ds: xr.Dataset, axes: AxisModel) -> dict:
    """Grid coverage(s) of a computed subset: a CoverageCollection when extra dims are split."""
    covs = []
    for label, part in split_extra_dims(ds, axes):
        cov = grid_coverage(part, axes)
        if label:
            cov["id"] = label
        covs.append(cov)
    return collection_or_single(covs)


def grid_coverage(ds: xr.Dataset, axes: AxisModel) -> dict:
    """A Grid coverage of a computed (numpy-backed) subset without extra dimensions."""
    cov_axes, names, dims = domain_axes(ds, axes)
    return {
        "type": "Coverage",
        "domain": {
            "type": "Domain",
            "domainType": "Grid",
            "axes": cov_axes,
            "referencing": referencing(axes, "z" in names, "t" in names),
        },
        "parameters": parameters(ds),
        "ranges": {str(n): ndarray(v.transpose(*dims), names) for n, v in ds.data_vars.items()},
    }
