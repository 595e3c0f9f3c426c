"""CoverageJSON number text (`encode.covjson.number_text`): every value reads back to the same float in its
own precision, whole values without `.0`, NaN and infinities as null, whatever mix of values an array has."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cubeserver.encode.covjson import number_text

SPECIALS = [0.0, -0.0, 1.0, 2.5, 1e20, -1e-30, np.nan, np.inf, -np.inf, 12345678.0, 3e38, 0.1, 280.0, -273.0]


def _read_back(text: bytes, dtype) -> list:
    return [None if v is None else float(np.array(v, dtype=dtype)) for v in json.loads(text)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", [1, 7, 300, 20_000])  # the few-whole and many-whole paths
def test_values_round_trip_and_whole_values_have_no_trailing_zero(dtype, size):
    rng = np.random.default_rng(size)
    for _ in range(20):
        values = rng.choice(np.array(SPECIALS, dtype=dtype), size=size)
        mixed = rng.random(size) < 0.5
        values[mixed] = rng.normal(280, 20, size=int(mixed.sum()))
        text = number_text(values)
        expected = [float(v) if np.isfinite(v) else None for v in values]
        assert _read_back(text, dtype) == expected
        assert b".0," not in text and not text.endswith(b".0]")


def test_known_text():
    values = np.array([280.0, 1.5, np.nan, -0.0, 1e20, 3.0, np.inf], dtype="float32")
    assert number_text(values) == b"[280,1.5,null,-0,1e+20,3,null]"
    assert number_text(np.array([280.1], dtype="float32")) == b"[280.1]"  # shortest float32 text
    assert number_text(np.array([[1.0, 2.0], [3.5, 4.0]], dtype="float32").T) == b"[1,3.5,2,4]"  # C order
    assert number_text(np.array([], dtype="float32")) == b"[]"
    assert number_text(np.array([3, 4], dtype="int16")) == b"[3,4]"
