"""OPeNDAP test helpers: the session app behind a real socket, and each bundled collection's source
opened independently with xarray (the ground truth the clients' values are compared with)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import warnings

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from tests.conftest import DATASETS, start_server

NEEDS = {tool: shutil.which(tool) for tool in ("ncdump", "cdo", "ncks")}


def need(tool: str):
    """Skip (with the package to install) when a Debian client tool is missing."""
    if not NEEDS[tool]:
        pytest.skip(f"{tool} not installed (apt-get install netcdf-bin cdo nco)")
    return NEEDS[tool]


def _geotiff(name: str) -> xr.Dataset:
    src = xr.open_dataset(DATASETS / name, engine="rasterio")  # band_data on (band, y, x), nodata as NaN
    return xr.Dataset({f"band_{int(b)}": src.band_data.sel(band=b, drop=True) for b in src.band.values})


def _many(pattern: str, **kw) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_mfdataset(sorted(map(str, DATASETS.glob(pattern))), use_cftime=True, **kw)


def _grib(name: str) -> xr.Dataset:
    return xr.open_dataset(DATASETS / name, engine="cfgrib", backend_kwargs={"indexpath": ""})


# collection id -> the source opened by xarray alone (mask_and_scale as xarray does by default)
SOURCES = {
    "coads": lambda: xr.open_dataset(DATASETS / "coads_sst.nc"),
    "eraint": lambda: xr.open_dataset(DATASETS / "eraint_uvz.nc"),
    "mur-sst": lambda: xr.open_zarr(DATASETS / "analysed_sst.zarr", consolidated=False),
    "cmip5-pr": lambda: xr.open_dataset(DATASETS / "cmip5_rcp85_pcp_pctl25.nc", use_cftime=True),
    "basin-mask": lambda: xr.open_dataset(DATASETS / "basin_mask.nc"),
    "landsat-rgb": lambda: _geotiff("RGB.byte.tif"),
    "cogeo": lambda: _geotiff("cogeo.tif"),
    "shade": lambda: _geotiff("shade.tif"),
    "gem-global": lambda: _grib("CMC_glb_TMP_TGL_2_latlon.15x.15_2020081000_P000.grib2"),
    "hrdps": lambda: _grib("CMC_hrdps_continental_TMP_TGL_80_ps2.5km_2020102700_P005-00.grib2"),
    "rotated-pole": lambda: xr.open_dataset(DATASETS / "grids/rotated_pole.nc"),
    "hybrid-height": lambda: xr.open_dataset(DATASETS / "grids/hybrid_height.nc"),
    "hadcm3-a1b": lambda: xr.open_dataset(DATASETS / "grids/A1B_north_america.nc", use_cftime=True),
    "toa-stereo": lambda: xr.open_dataset(DATASETS / "grids/toa_brightness_stereographic.nc"),
    "orca2": lambda: xr.open_dataset(DATASETS / "grids/orca2_votemper.nc", use_cftime=True),
    "nemo-sst": lambda: _many("grids/nemo/*.nc", combine="nested", concat_dim="time_counter", data_vars="minimal",
                              coords="minimal", compat="override", join="override"),
    "cmip6-ta": lambda: _many("cmip6_awi_ta/*.nc", combine="by_coords"),
}


# collections whose float32 _FillValue meets netCDF-C 4.9's DAP4 attribute parser, which reads Float32 values one unit
# in the last place off (0.1 -> 0.09999998; -1e34 -> -1.00000004e34), so the fill no longer matches the data
DAP4_FLOAT32_FILL = {"coads", "orca2"}
NETCDF_C_DAP4_BUG = ("netCDF-C 4.9's DAP4 parses Float32 attributes one unit in the last place off, so a float32 "
                     "_FillValue no longer matches its data (DAP2, the default for http:// URLs, is exact)")


def spatial_window(var: xr.DataArray, stride: int = 3, n: int = 12) -> dict:
    """The hyperslab the value tests ask for: index 0 (or 0..1) on leading dimensions, a strided window on
    the last two (`stride`, at most `n` values each)."""
    out = {}
    for i, d in enumerate(var.dims):
        size = var.sizes[d]
        if i >= var.ndim - 2:
            start = size // 3
            out[d] = slice(start, min(size, start + stride * n), stride)
        else:
            out[d] = slice(0, min(size, 2))
    return out


def same_values(remote: np.ndarray, source: np.ndarray) -> None:
    """Equal values after dropping length-1 axes (the server promotes scalar axes to dimensions)."""
    remote, source = np.squeeze(np.asarray(remote)), np.squeeze(np.asarray(source))
    assert remote.shape == source.shape, (remote.shape, source.shape)
    if remote.dtype.kind in "mMO" or source.dtype.kind in "mMO":
        def text(a):  # datetime64 and cftime spell the same instant differently ("T" or " ")
            return [str(x)[:19].replace("T", " ") for x in a.ravel()]

        assert text(remote) == text(source)
    else:
        np.testing.assert_array_equal(remote, source)


@pytest.fixture(scope="session")
def dap_base(live_server):
    """The real CLI serving the bundled default config in its own process: netCDF-C holds the GIL while it
    waits on HTTP, so a server thread in the test's own process would never answer it."""
    return live_server


@contextlib.contextmanager
def server_for(collections: dict, tmp: Path, **settings):
    """The real CLI serving `collections` ({id: {path: ...}}) with more top-level `settings`; yields its URL."""
    cfg = tmp / "opendap.yaml"
    cfg.write_text(yaml.safe_dump({"state_dir": str(tmp / "state"), "collections": collections, **settings}))
    proc, base = start_server(cfg, tmp)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
