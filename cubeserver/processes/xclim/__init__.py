"""xclim climate indicators (and ensemble statistics) as OGC API processes.

`load()` imports xclim (a few seconds) and returns {process id: Process} for every
indicator of the realms in `REALMS` whose parameters a web client can pass (less `BROKEN`), plus
the ensemble process. Ids are `xclim.<realm>.<identifier>` (`xclim.atmos.tg_mean`) and,
for xclim's virtual modules, `xclim.<module>.<identifier>` (`xclim.icclim.TG`, `xclim.cf.cdd`). It is called by the catalogue on first need, not at start-up;
descriptions are built per process on first request and cached. Without xclim
installed (the optional `climate` extra) it returns nothing.
"""

from __future__ import annotations

import logging
import logging
import warnings

log = logging.getLogger("cubeserver.processes")

REALMS = ("atmos", "land", "seaIce", "convert")  # convert: derived variables (PET, humidex, wind...)
PREFIX = "xclim."
# indicators that fail inside xclim 0.62 on every input this server can give them (dask arrays, canonical
# units), so are not offered; tests/processes/test_xclim_describe.py checks xclim still fails on them
BROKEN = {
    "xclim.atmos.rain_season": "on dask input xclim indexes with a chunked array (ValueError: Cannot index with a "
                               "chunked array indexer)",
    "xclim.cf.sdii": "its fixed 1 mm/day threshold is converted to the units of pr without the hydro context, so "
                     "any pr in kg m-2 s-1 (CF canonical) fails (DimensionalityError)",
}


def _xclim_docstring_noise(record: logging.LogRecord) -> bool:
    """False for the INFO lines xclim logs on the root logger while reading its own docstrings ("Choice not
    found. Ignoring: ..."): one per indicator with an unparsable choice list, nothing a server operator can act on."""
    return not (record.name == "root" and record.levelno == logging.INFO
                and str(record.msg).startswith("Choice not found") and "xclim" in record.pathname)


def load() -> dict:
    if _xclim_docstring_noise not in logging.getLogger().filters:
        logging.getLogger().addFilter(_xclim_docstring_noise)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import xclim  # noqa: F401
            from xclim.core.indicator import registry
    except ImportError:
        log.info("xclim is not installed: no climate indicator processes")
        return {}
    from .describe import supported
    from .ensemble import Ensemble
    from .indicator import XclimIndicator

    out = {}
    for key, cls in sorted(registry.items(), key=lambda kv: (_virtual(kv[0]), kv[1].realm, kv[1].identifier)):
        if cls.realm not in REALMS:
            continue
        ind = cls.get_instance()
        if not supported(ind):
            continue
        p = XclimIndicator(key, ind)
        if p.id not in BROKEN:
            out.setdefault(p.id, p)
    ens = Ensemble()
    out[ens.id] = ens
    return out


def _virtual(key: str) -> bool:
    """Registered by a virtual module (icclim.*, cf.*, anuclim.*) rather than a realm module."""
    return "." in key and not key.startswith("xclim.")
