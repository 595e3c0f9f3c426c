"""Stream a temporary file to the client and delete it afterwards."""

from __future__ import annotations

import os

from starlette.background import BackgroundTask
from starlette.responses import FileResponse


def stream_file(path: str, media_type: str, filename: str) -> FileResponse:
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        background=BackgroundTask(_remove, path),
    )


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
