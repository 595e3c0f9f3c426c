"""Which collection variable feeds each xclim input variable, in which units.

Matching order (documented in the process descriptions): the caller's `variables`
mapping; then (required inputs only) the CF standard name xclim expects (xclim's variables.yml, plus the
documented `STANDARD_ALIASES`); then the xclim name itself; then the `NAME_ALIASES`
list. Units are converted to xclim's canonical units with xclim's own pint registry
(`xclim.core.units.convert_units_to`, hydro context for precipitation), after the
spellings in `UNIT_ALIASES` (old COADS-style strings pint cannot read) are normalised.
Every failure is a 400 naming the `variables` input.
"""

from __future__ import annotations

import xarray as xr

from ...errors import BadRequest

# CF standard names that mean the same physical input as xclim's (non-CF or older spellings)
STANDARD_ALIASES = {
    "pr": ["precipitation_flux", "precipitation", "lwe_precipitation_rate"],
    "prsn": ["snowfall_flux"],
    "tas": ["air_temperature"], "tasmin": ["air_temperature"], "tasmax": ["air_temperature"],
}
# variable names used by common datasets (reanalyses, station files, COADS, GRIB short names)
NAME_ALIASES = {
    "tas": ["tas", "t2m", "2t", "air", "AIRT", "tmean", "tg", "TMP", "temperature", "air_temperature"],
    "tasmin": ["tasmin", "tmin", "mn2t", "tn", "TMIN"],
    "tasmax": ["tasmax", "tmax", "mx2t", "tx", "TMAX"],
    "pr": ["pr", "precip", "prcp", "tp", "PRCP", "precipitation", "rr"],
    "sfcWind": ["sfcWind", "wind_speed", "wspd", "si10"],
    "hurs": ["hurs", "rh", "relative_humidity"],
    "snd": ["snd", "sd", "snow_depth"],
    "siconc": ["siconc", "sic", "ci", "ice_conc"],
}
# unit spellings seen in real files that pint does not parse
UNIT_ALIASES = {"deg c": "degC", "degc": "degC", "degrees c": "degC", "deg k": "K", "degrees k": "K",
                "m/s": "m s-1", "mm/day": "mm d-1", "mm/d": "mm d-1", "kg/m2/s": "kg m-2 s-1",
                "kg m^-2 s^-1": "kg m-2 s-1"}


def expected(name: str) -> dict:
    """xclim's metadata for an input variable ({} when variables.yml does not know it)."""
    from xclim.core import VARIABLES

    return dict(VARIABLES.get(name.removesuffix("_per"), {}))


def describe(name: str) -> str:
    meta = expected(name)
    if not meta:
        return f"`{name}`: matched by name"
    stds = STANDARD_ALIASES.get(name, [meta.get("standard_name")])
    return (f"`{name}` ({meta.get('description', '').rstrip('.')}; standard_name {' or '.join(filter(None, stds))}, "
            f"canonical units {meta.get('canonical_units')}; names tried: {', '.join(NAME_ALIASES.get(name, [name]))})")


def match(collection, name: str, override: str | None, by_standard_name: bool = True) -> str:
    """The collection variable for xclim input `name`; 400 naming `variables` when none or ambiguous.

    `by_standard_name=False` (xclim's optional inputs) matches by name and alias only: an optional
    `tasmin` must not silently read the one `air_temperature` a required `tas` reads.
    """
    have = list(collection.variables)
    ds = collection.ds
    if override is not None:
        if override not in have:
            raise BadRequest(f"variables: {name}={override!r} is not a variable of {collection.id}; variables are "
                             f"{', '.join(have)}", parameter="variables")
        return override
    meta = expected(name)
    stds = STANDARD_ALIASES.get(name, [meta["standard_name"]] if meta.get("standard_name") else [])
    by_std = [v for v in have if ds[v].attrs.get("standard_name") in stds] if by_standard_name else []
    if len(by_std) > 1:
        exact = [v for v in by_std if v == name]
        methods = [v for v in by_std if meta.get("cell_methods") and meta["cell_methods"] in ds[v].attrs.get("cell_methods", "")]
        by_std = exact or (methods if len(methods) == 1 else by_std)
    if len(by_std) == 1:
        return by_std[0]
    if name in have:
        return name
    for alias in NAME_ALIASES.get(name, []):
        if alias in have:
            return alias
    what = f"standard_name {' or '.join(stds)}" if stds else f"the name {name!r}"
    if len(by_std) > 1:
        raise BadRequest(f"variables: {collection.id} has several variables with {what} ({', '.join(by_std)}); "
                         f"name the one for {name}, e.g. {{\"{name}\": \"{by_std[0]}\"}}", parameter="variables")
    raise BadRequest(f"variables: {collection.id} has no variable for xclim input {name!r} (looked for {what}, "
                     f"then names {', '.join(NAME_ALIASES.get(name, [name]))}); its variables are {', '.join(have)}. "
                     f"Name one with the `variables` input, e.g. {{\"{name}\": \"<variable>\"}}", parameter="variables")


def normalise_units(da: xr.DataArray, name: str, source: str) -> xr.DataArray:
    """`da` with units pint can read (UNIT_ALIASES applied); 400 naming `variables` when it has none."""
    from xclim.core.units import units2pint

    units = da.attrs.get("units")
    if units is None or str(units).strip() == "":
        raise BadRequest(f"variables: {source} (used as {name}) has no units attribute; xclim needs units",
                         parameter="variables")
    fixed = UNIT_ALIASES.get(str(units).strip().lower(), units)
    try:
        units2pint(fixed)
    except Exception:  # noqa: BLE001 - pint raises several kinds
        raise BadRequest(f"variables: the units {units!r} of {source} (used as {name}) are not understood",
                         parameter="variables") from None
    if fixed != units:
        da = da.copy()
        da.attrs["units"] = fixed
    return da


def to_canonical(da: xr.DataArray, name: str, source: str) -> xr.DataArray:
    """`da` converted (lazily) to xclim's canonical units for `name`, tagged with its standard name."""
    from xclim.core.units import convert_units_to

    da = normalise_units(da, name, source)
    meta = expected(name)
    if not meta.get("canonical_units"):
        return da
    context = "hydro" if meta.get("dimensions") == "[precipitation]" else "none"
    try:
        out = convert_units_to(da, meta["canonical_units"], context=context)
    except Exception:  # noqa: BLE001 - pint's DimensionalityError and friends
        raise BadRequest(f"variables: {source} in {da.attrs['units']!r} cannot be converted to the "
                         f"{meta['canonical_units']} xclim needs for {name}", parameter="variables") from None
    out.attrs["standard_name"] = meta.get("standard_name", out.attrs.get("standard_name"))
    return out
