"""`styles:` in the config: bad colormaps, ranges, kinds, levels and style ids are config errors naming the
key (check-config prints them); good ones are accepted."""

from __future__ import annotations

import pytest

from cubeserver.config import ConfigError, config_from_dict
from tests.conftest import DATASETS


def _load(styles, tmp_path):
    raw = {"collections": {"c": {"path": str(DATASETS / "coads_sst.nc"), "styles": styles}}}
    return config_from_dict(raw, tmp_path)


@pytest.mark.parametrize("styles, key, words", [
    ({"SST": {"colormap": "cmo.thermall"}}, "styles.SST.colormap", "did you mean cmo.thermal"),
    ({"SST": {"colormap": "notacolormap"}}, "styles.SST.colormap", "unknown colormap"),
    ({"SST": {"range": [5, 1]}}, "styles.SST.range", "below"),
    ({"SST": {"kind": "wiggly"}}, "styles.SST.kind", ""),
    ({"SST": {"levels": 1}}, "styles.SST.levels", "between 2 and 100"),
    ({"SST": {"levels": [3, 2]}}, "styles.SST.levels", "increasing"),
    ({"SST": {"extra": [{"id": "default"}]}}, "styles.SST.extra.0.id", "not 'default'"),
    ({"SST": {"extra": [{"id": "a"}, {"id": "a"}]}}, "styles.SST", "more than once"),
    ({"SST": {"colour": "red"}}, "styles.SST.colour", "unknown key"),
])
def test_bad_styles_are_config_errors(tmp_path, styles, key, words):
    with pytest.raises(ConfigError) as e:
        _load(styles, tmp_path)
    lines = [line for line in e.value.problems if key in line]
    assert lines, e.value.problems
    assert any(words in line for line in lines), lines


def test_good_styles(tmp_path):
    cfg = _load({"SST": {"colormap": "cmo.thermal", "range": [-2, 30], "kind": "filled-contour", "levels": 8,
                         "extra": [{"id": "anomaly", "colormap": "RdBu_r", "range": [-5, 5]}]}}, tmp_path)
    st = cfg.collections["c"].styles["SST"]
    assert st.colormap == "cmo.thermal" and st.extra[0].id == "anomaly"
