"""`crs_memo.by_identity`: per-object memo in front of value-keyed caches of CRS functions."""

from __future__ import annotations

from pyproj import CRS

from cubeserver.axes import crs_uri, is_lonlat
from cubeserver.crs_memo import MAX_ENTRIES, by_identity


def test_same_object_is_computed_once_equal_objects_share_nothing_by_identity():
    calls = []

    @by_identity
    def name(crs):
        calls.append(crs)
        return crs.name

    a, b = CRS.from_epsg(3035), CRS.from_epsg(3035)
    assert name(a) == name(a) == name(b) == "ETRS89-extended / LAEA Europe"
    assert len(calls) == 2 and calls[0] is a and calls[1] is b  # b is equal to a but another object


def test_a_new_object_at_a_recycled_id_is_not_served_the_old_value():
    @by_identity
    def wkt_len(crs):
        return len(crs.to_wkt())

    for code in (4326, 3857, 3035, 32633) * 3:  # objects dropped at once: CPython reuses their ids
        crs = CRS.from_epsg(code)
        assert wkt_len(crs) == len(crs.to_wkt())
        del crs


def test_memo_is_bounded_and_the_wrapped_functions_still_answer():
    @by_identity
    def ident(x):
        return x

    keep = [object() for _ in range(MAX_ENTRIES + 10)]
    assert [ident(o) for o in keep] == keep
    assert crs_uri(CRS.from_epsg(4326)).endswith("/EPSG/0/4326")
    assert is_lonlat(CRS.from_user_input("OGC:CRS84")) and not is_lonlat(CRS.from_epsg(3857))
