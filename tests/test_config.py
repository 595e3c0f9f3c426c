"""Config contract: minimal entries, inference, and one clear line per problem."""

import subprocess
import sys

import pytest
import yaml

from cubeserver.config import ConfigError, config_from_dict, load_config
from cubeserver.registry import Registry

from .conftest import DATASETS, ROOT


def test_minimal_entry_infers_format_and_resolves_relative_paths(tmp_path):
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump({"collections": {"coads": {"path": str(DATASETS / "coads_sst.nc")},
                                                                       "sst": {"path": "../" + tmp_path.name + "/x.zarr"}}}))
    (tmp_path / "x.zarr").mkdir()
    cfg = load_config(tmp_path / "cfg.yaml")
    assert cfg.collections["coads"].format == "netcdf"
    assert cfg.collections["sst"].format == "zarr"
    assert cfg.resolve(cfg.collections["sst"].path).resolve() == (tmp_path / "x.zarr").resolve()


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({"collections": {"a": {"path": "nope.nc"}}}, "collections.a.path: 'nope.nc' does not exist"),
        ({"collections": {"a": {"path": "coads_sst.nc", "colour": 1}}}, "collections.a.colour: unknown key"),
        ({"collections": {"a": {"path": "coads_sst.nc", "crs": "EPSG:99999999"}}}, "collections.a.crs: unknown CRS"),
        ({"collections": {"a": {"path": "coads_sst.nc", "format": "grib9"}}}, "collections.a.format"),
        ({"limits": {"max_cells": -1}}, "limits.max_cells"),
        ({"collections": {"a b": {"path": "coads_sst.nc"}}}, "collection id 'a b'"),
        ({"collections": {"a": {"path": "coads_sst.nc", "locations": "missing"}}}, "collections.a.locations: no collection 'missing'"),
    ],
)
def test_bad_config_names_the_key(raw, expected):
    with pytest.raises(ConfigError) as e:
        config_from_dict(raw, DATASETS)
    assert any(expected in line for line in e.value.problems), e.value.problems


def test_several_problems_are_all_reported():
    with pytest.raises(ConfigError) as e:
        config_from_dict({"collections": {"a": {"path": "x.nc"}, "b": {"path": "y.nc"}}, "bogus": 1}, DATASETS)
    text = "\n".join(e.value.problems)
    assert "bogus: unknown key" in text
    assert "'x.nc' does not exist" in text and "'y.nc' does not exist" in text


def test_variables_and_axis_overrides_are_checked():
    cfg = config_from_dict({"collections": {"a": {"path": "eraint_uvz.nc", "variables": ["u", "nope"]}}}, DATASETS)
    with pytest.raises(ValueError, match="nope"):
        Registry(cfg)
    cfg = config_from_dict({"collections": {"a": {"path": "eraint_uvz.nc", "axes": {"t": "when"}}}}, DATASETS)
    with pytest.raises(ValueError, match="axes.t: 'when' is not a dimension"):
        Registry(cfg)


def test_variables_key_limits_the_exposed_variables():
    cfg = config_from_dict({"collections": {"a": {"path": "eraint_uvz.nc", "variables": ["u"]}}}, DATASETS)
    assert Registry(cfg).get("a").variables == ["u"]


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "cubeserver.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_check_config_prints_what_each_collection_resolved_to():
    r = _cli("check-config")
    assert r.returncode == 0, r.stderr
    import json

    rows = {row["id"]: row for row in map(json.loads, r.stdout.splitlines())}
    assert rows["coads"]["axes"]["x"] == "COADSX" and rows["coads"]["format"] == "netcdf"
    assert rows["landsat-rgb"]["axes"]["crs"].endswith("/EPSG/0/32618")
    assert rows["places"]["kind"] == "features"


def test_bad_config_fails_with_one_line_per_problem_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("collections:\n  a:\n    path: missing.nc\n    colour: red\n")
    for args in (("check-config", str(bad)), ("serve", "--config", str(bad), "--port", "1")):
        r = _cli(*args)
        assert r.returncode == 2
        assert "Traceback" not in r.stderr
        lines = r.stderr.strip().splitlines()
        assert "config error: collections.a.colour: unknown key" in lines
        assert any("missing.nc' does not exist" in line for line in lines)


def test_invalid_yaml_is_reported(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("collections: [unclosed\n")
    r = _cli("check-config", str(bad))
    assert r.returncode == 2 and "not valid YAML" in r.stderr and "Traceback" not in r.stderr
