"""Numbers are decimal as OGC APIs write them: Python-only spellings (digit separators `1_5`, hexadecimal
floats `0x10`) are a 400 naming the parameter, never silently another number (`z=1_5` read as 15)."""

from __future__ import annotations

import pytest

CASES = [
    ("/collections/coads/cube", {"bbox": "-1_10,3_5,-9_0,4_5"}, "bbox"),
    ("/collections/coads/radius", {"coords": "POINT(-30 40)", "within": "1_00", "within-units": "km"}, "within"),
    ("/collections/eraint/position", {"coords": "POINT(10 45)", "z": "5_00"}, "z"),
    ("/collections/coads/position", {"coords": "POINT(0x10 40)"}, "coords"),
    ("/collections/coads/position", {"coords": "POINT(0X1P4 40)"}, "coords"),
    ("/collections/coads/area", {"coords": "POLYGON((1_0 0,20 0,20 10,10 10,1_0 0))"}, "coords"),
    ("/collections/coads/coverage", {"subset": "Lon(-1_10:-9_0)"}, "subset"),
    ("/collections/coads/coverage", {"scale-factor": "0x2"}, "scale-factor"),
    ("/collections/coads/coverage", {"scale-size": "Lon(1_0)"}, "scale-size"),
]


@pytest.mark.parametrize("path,params,param", CASES, ids=[f"{p}-{n}" for _, p, n in CASES])
def test_python_only_number_spellings_are_refused(client, path, params, param):
    r = client.get(path, params=params)
    assert r.status_code == 400, r.text[:300]
    assert r.json().get("parameter") == param, r.json()


def test_decimal_spellings_still_work(client):
    ok = client.get("/collections/coads/position", params={"coords": "POINT(-30.5e0 +40.)"})
    assert ok.status_code == 200, ok.text[:300]
    ok = client.get("/collections/coads/cube", params={"bbox": "-31,39,-29,.41e2"})
    assert ok.status_code == 200, ok.text[:300]
