"""Streaming with bounded memory: the blocks a hyperslab is read in cover it exactly, in C order, each within
the byte target (one row at least), so an answer of any size holds one block at a time."""

from __future__ import annotations

import numpy as np
import pytest

from cubeserver.opendap.encode import blocks


@pytest.mark.parametrize("shape,itemsize,target", [
    ((12, 90, 180), 4, 1 << 20), ((12, 90, 180), 4, 4000), ((5, 7), 8, 8), ((3, 1000), 2, 100), ((17,), 4, 12), ((), 8, 1),
])
def test_blocks_cover_the_array_in_order_within_the_target(shape, itemsize, target):
    flat = np.arange(int(np.prod(shape))).reshape(shape)
    seen = []
    for sl in blocks(shape, itemsize, target):
        piece = flat[sl] if sl else flat
        row = shape[-1] if shape else 1
        assert piece.size * itemsize <= max(target, itemsize), (sl, piece.size)
        assert piece.size * itemsize <= target or piece.size == 1 or piece.size <= row
        seen.extend(np.ravel(piece).tolist())
    assert seen == list(range(flat.size))
