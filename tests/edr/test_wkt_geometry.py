"""Unit checks of WKT parsing (Z/M forms) and the geometry -> index helpers."""

from __future__ import annotations

import numpy as np
import pytest

from cubeserver.errors import BadRequest
from cubeserver.query.wkt import parse_coords
from cubeserver.select import geometry as geo

LINES = ("LineString", "MultiLineString")


@pytest.mark.parametrize("text", ["LINESTRINGM(0 1 10, 2 3 20)", "LINESTRING M (0 1 10, 2 3 20)", "linestringm (0 1 10,2 3 20)"])
def test_linestring_m_forms(text):
    c = parse_coords(text, LINES)
    assert c.geom.wkt == "LINESTRING (0 1, 2 3)" and c.z is None and c.m.tolist() == [10, 20]


def test_linestring_z_and_zm():
    z = parse_coords("LINESTRINGZ(0 1 5, 2 3 6)", LINES)
    assert z.z.tolist() == [5, 6] and z.m is None
    zm = parse_coords("LINESTRING ZM (0 1 5 10, 2 3 6 20)", LINES)
    assert zm.z.tolist() == [5, 6] and zm.m.tolist() == [10, 20] and not zm.geom.has_z


def test_multipoint_both_spellings():
    assert parse_coords("MULTIPOINT(1 2, 3 4)", ("MultiPoint",)).xy()[0].tolist() == [1, 3]
    assert parse_coords("MULTIPOINT((1 2),(3 4))", ("MultiPoint",)).xy()[1].tolist() == [2, 4]


def test_bad_wkt_names_param():
    with pytest.raises(BadRequest) as e:
        parse_coords("LINESTRINGQ(0 0, 1 1)", LINES)
    assert e.value.parameter == "coords"


def test_nearest_is_periodic_and_order_free():
    vals = np.array([-180.0, -179.25, 179.25])
    assert geo._nearest(vals, np.array([179.9]), 360.0).tolist() == [0]  # across the seam
    assert geo._nearest(np.array([90.0, 89.25, 88.5]), np.array([89.0, 88.6])).tolist() == [1, 2]  # descending
    assert geo._nearest(np.array([0.0, 10.0, 20.0, 40.0]), np.array([31.0, 29.0])).tolist() == [3, 2]  # irregular


def test_dedupe_collapses_consecutive_cells():
    iy, ix = np.array([1, 1, 1, 2, 2, 1]), np.array([5, 5, 6, 6, 6, 5])
    assert geo.dedupe(iy, ix).tolist() == [0, 2, 3, 5]
    assert geo.dedupe(iy, ix, np.array([0, 1, 1, 1, 1, 1])).tolist() == [0, 1, 2, 3, 5]


def test_resample_keeps_ends():
    idx = np.arange(10, 19)
    assert geo.resample(idx, 3).tolist() == [10, 14, 18]
    assert geo.resample(idx, 0).tolist() == idx.tolist() and geo.resample(idx, 50).tolist() == idx.tolist()


def test_streaming_producer_stops_when_the_client_goes():
    import asyncio
    import threading

    from cubeserver.encode.slabs import ahead as _ahead

    produced = []
    closed = threading.Event()

    def pieces():
        try:
            for i in range(1000):
                produced.append(i)
                yield b"x" * 10
        finally:
            closed.set()

    async def main():
        gen = _ahead(pieces(), depth=2)
        assert await gen.__anext__() == b"x" * 10
        await gen.aclose()  # the client disconnected after one piece

    asyncio.run(main())
    assert closed.wait(5) and len(produced) < 10


def test_streaming_producer_error_reaches_the_consumer():
    import asyncio

    from cubeserver.encode.slabs import ahead as _ahead

    def pieces():
        yield b"a"
        raise ValueError("disk on fire")

    async def main():
        return [p async for p in _ahead(pieces())]

    with pytest.raises(ValueError, match="disk on fire"):
        asyncio.run(main())
