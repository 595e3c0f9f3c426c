"""A broken collection never takes the server down: check-config names every problem, serve refuses or skips.

The broken files are real: a truncated NetCDF, a text file named .nc, a .tif that is not a
TIFF, a glob matching nothing, a NetCDF declared as Zarr, undecodable time units, bad
`chunks`, `variables`, `axes` and `crs`, a broken GeoJSON used as `locations:`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import requests
import xarray as xr
import yaml

from cubeserver.config import ConfigError, config_from_dict
from cubeserver.registry import Registry

from .conftest import DATASETS, ROOT, start_server

GOOD = {"coads", "shade", "places-ok"}
# collection id -> the config key its problem line must name
BROKEN = {
    "truncated": "path", "text-nc": "path", "not-a-tiff": "path", "empty-glob": "path", "zarr-on-netcdf": "format",
    "fortnights": "path", "negative-chunks": "chunks", "unknown-chunk-dim": "chunks", "unknown-variables": "variables",
    "bad-axes": "axes.t", "bad-crs": "crs", "unknown-key": "colour", "missing-file": "path", "bad-vector": "path",
    "tiff-as-netcdf": "format",
}


def _write_broken_files(tmp):
    data = (DATASETS / "coads_sst.nc").read_bytes()
    (tmp / "truncated.nc").write_bytes(data[: len(data) // 3])
    (tmp / "text.nc").write_text("this is not a NetCDF file\n")
    (tmp / "not_a_tiff.tif").write_text("GIF89a, or rather nothing at all\n")
    (tmp / "bad.geojson").write_text('{"type": "FeatureCollection", "features": [ {"type": ')
    ds = xr.Dataset({"t2m": (("time", "lat", "lon"), np.zeros((2, 3, 4), "float32"))},
                    coords={"time": ("time", [0, 1], {"units": "fortnights since 2000-01-01"}),
                            "lat": ("lat", [10.0, 11.0, 12.0], {"units": "degrees_north"}),
                            "lon": ("lon", [1.0, 2.0, 3.0, 4.0], {"units": "degrees_east"})})
    ds.to_netcdf(tmp / "fortnights.nc")


def _config(tmp, cases) -> dict:
    _write_broken_files(tmp)
    d = str(DATASETS)
    return {
        "state_dir": str(tmp / "state"),
        "collections": {
            "coads": {"path": f"{d}/coads_sst.nc", "locations": "bad-vector"},
            "shade": {"path": f"{d}/shade.tif"},
            "places-ok": {"path": f"{d}/ne_110m_populated_places_simple.geojson"},
            "truncated": {"path": str(tmp / "truncated.nc")},
            "text-nc": {"path": str(tmp / "text.nc")},
            "not-a-tiff": {"path": str(tmp / "not_a_tiff.tif")},
            "empty-glob": {"path": str(tmp / "nothing-here-*.nc")},
            "zarr-on-netcdf": {"path": f"{d}/coads_sst.nc", "format": "zarr"},
            "tiff-as-netcdf": {"path": f"{d}/RGB.byte.tif", "format": "netcdf"},
            "fortnights": {"path": str(tmp / "fortnights.nc")},
            "months": {"path": str(cases / "c09b_months_std.nc")},
            "negative-chunks": {"path": f"{d}/coads_sst.nc", "chunks": {"TIME": -5}},
            "unknown-chunk-dim": {"path": f"{d}/coads_sst.nc", "chunks": {"nosuchdim": 3}},
            "unknown-variables": {"path": f"{d}/eraint_uvz.nc", "variables": ["u", "nope"]},
            "bad-axes": {"path": f"{d}/eraint_uvz.nc", "axes": {"t": "when"}},
            "bad-crs": {"path": f"{d}/eraint_uvz.nc", "crs": "EPSG:99999999"},
            "unknown-key": {"path": f"{d}/eraint_uvz.nc", "colour": "red", "variables": ["nope"]},
            "missing-file": {"path": str(tmp / "missing.nc")},
            "bad-vector": {"path": str(tmp / "bad.geojson")},
        },
    }


@pytest.fixture(scope="module")
def setup(tmp_path_factory, cases):
    tmp = tmp_path_factory.mktemp("broken")
    raw = _config(tmp, cases)
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return tmp, raw, path


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cubeserver.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=180)


def _lines_of(text: str, cid: str) -> list[str]:
    return [line for line in text.splitlines() if f"collections.{cid}." in line or f"collections.{cid}:" in line]


def test_registry_opens_every_collection_and_names_each_problem(setup):
    tmp, raw, _ = setup
    with pytest.raises(ConfigError):  # strict by default: nothing is half-served by accident
        config_from_dict(raw, tmp)
    config = config_from_dict(raw, tmp, lenient=True)
    with pytest.raises(ConfigError) as e:
        Registry(config)
    assert set(BROKEN) <= {line.split(".")[1].split(":")[0] for line in e.value.problems}
    reg = Registry(config, skip_broken=True)
    served = {c.id for c in reg}
    assert GOOD <= served and not served & set(BROKEN)
    for cid, key in BROKEN.items():
        assert any(line.startswith(f"collections.{cid}.{key}:") for line in reg.problems[cid]), reg.problems.get(cid)
    assert len(reg.problems["unknown-key"]) == 2  # the schema problem and the data problem, in one run
    # coads keeps serving, without the named locations of its broken Features collection
    assert reg.get("coads").config.locations is None
    assert any("bad-vector" in line and "locations" in line for line in reg.problems["coads"])


def test_months_file_never_takes_the_server_down(setup):
    """c09b ('months since', standard calendar): decoded by the time module, or one line naming it."""
    tmp, raw, _ = setup
    reg = Registry(config_from_dict(raw, tmp, lenient=True), skip_broken=True)
    assert "months" in reg or any(line.startswith("collections.months.") for line in reg.problems["months"])


def test_check_config_lists_every_problem_and_summarises_the_good(setup):
    _, _, path = setup
    r = _cli("check-config", str(path))
    assert r.returncode != 0
    assert "Traceback" not in r.stdout + r.stderr
    rows = {row["id"]: row for row in map(json.loads, r.stdout.splitlines())}
    assert GOOD <= set(rows) and not set(rows) & set(BROKEN)
    assert rows["coads"]["axes"]["x"] == "COADSX" and rows["places-ok"]["kind"] == "features"
    for cid, key in BROKEN.items():
        lines = _lines_of(r.stderr, cid)
        assert any(f"collections.{cid}.{key}: " in line for line in lines), (cid, r.stderr)
    assert str(ROOT) not in r.stderr.replace(str(DATASETS), "")  # no server source paths
    # the kinds of problem are told apart
    text = r.stderr
    assert re.search(r"collections\.fortnights\.path: .*fortnights since 2000-01-01", text)
    assert re.search(r"collections\.zarr-on-netcdf\.format: .*NetCDF", text)
    assert re.search(r"collections\.unknown-chunk-dim\.chunks: .*nosuchdim", text)
    assert re.search(r"collections\.empty-glob\.path: no files match", text)


def test_serve_refuses_a_broken_config(setup, tmp_path):
    _, _, path = setup
    r = _cli("serve", "--config", str(path), "--port", "1")
    assert r.returncode != 0
    assert "Traceback" not in r.stdout + r.stderr
    for cid, key in BROKEN.items():
        assert any(f"collections.{cid}.{key}: " in line for line in _lines_of(r.stderr, cid)), cid
    assert "--skip-broken" in r.stderr


@pytest.mark.parametrize("how", ["flag", "config"])
def test_serve_skip_broken_serves_the_healthy_ones(setup, tmp_path, how):
    _, raw, _ = setup
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({**raw, "skip_broken": how == "config"}))
    proc, base = start_server(cfg, tmp_path, args=("--skip-broken",) if how == "flag" else ())
    try:
        ids = {c["id"] for c in requests.get(f"{base}/collections", timeout=30).json()["collections"]}
        assert GOOD <= ids and not ids & set(BROKEN)
        r = requests.get(f"{base}/collections/coads/position", params={"coords": "POINT(-30 40)"}, timeout=30)
        assert r.status_code == 200
        assert requests.get(f"{base}/collections/truncated", timeout=30).status_code == 404
    finally:
        proc.terminate()
        proc.wait(20)
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert "Traceback" not in log
    for cid in BROKEN:
        assert sum(line.count(f"collections.{cid}: not served") for line in log.splitlines()) == 1, cid
    # what is served and where to look, printed at start (one line per served collection)
    listed = {line.split()[0] for line in log.splitlines() if line.startswith("  ")}
    assert GOOD <= listed and not listed & set(BROKEN), listed
    assert f"cubeserver: {len(ids)} collections" in log
    assert f"landing page: {base}/" in log and f"{base}/collections/" in log and "/viewer" in log


def test_all_broken_still_starts_and_says_so(setup, tmp_path):
    tmp, raw, _ = setup
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), "skip_broken": True,
                                   "collections": {"truncated": raw["collections"]["truncated"],
                                                   "text-nc": raw["collections"]["text-nc"]}}))
    proc, base = start_server(cfg, tmp_path)
    try:
        assert requests.get(base, timeout=30).status_code == 200
        assert requests.get(f"{base}/collections", timeout=30).json()["collections"] == []
    finally:
        proc.terminate()
        proc.wait(20)
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert "ERROR cubeserver: no collection could be opened" in log


def test_broken_vector_collection_alone(tmp_path):
    (tmp_path / "bad.geojson").write_text("{ not json")
    shutil.copy(DATASETS / "ne_110m_lakes.geojson", tmp_path / "lakes.geojson")
    config = config_from_dict({"collections": {"bad": {"path": "bad.geojson"}, "lakes": {"path": "lakes.geojson"}}},
                               tmp_path, lenient=True)
    reg = Registry(config, skip_broken=True)
    assert [c.id for c in reg] == ["lakes"] and reg.broken == ["bad"]
    assert reg.problems["bad"][0].startswith("collections.bad.path: ")
