"""Give freed memory back to the OS after a data answer.

Reading a selection decompresses whole chunks (tens of MB even for a point series);
numpy frees those buffers, but glibc keeps them in its arenas, so a busy server's RSS
ratchets up. `malloc_trim(0)` (a few ms, run after the response is sent) returns the
free pages, as dask.distributed does for its workers. A no-op where glibc is absent.
"""

from __future__ import annotations

import ctypes
import ctypes.util

from starlette.background import BackgroundTask, BackgroundTasks
from starlette.responses import Response

try:
    _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _TRIM = _LIBC.malloc_trim
except (OSError, AttributeError):
    _TRIM = None


def trim() -> None:
    if _TRIM is not None:
        _TRIM(0)


def trim_after(response: Response) -> Response:
    """Add a trim after the response is sent, keeping any background task it already has."""
    if _TRIM is None:
        return response
    task = BackgroundTask(trim)
    if response.background is None:
        response.background = task
    else:
        response.background = BackgroundTasks(tasks=[response.background, task])
    return response
