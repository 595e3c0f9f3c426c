"""Screenshot helpers of the browser tests: pixel arrays, blankness, README screenshots."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

# The README's screenshots are refreshed only when asked (CUBESERVER_SCREENSHOTS=1 pytest tests/browser), so a
# plain `make test` leaves the checkout as it was; otherwise they go to a temporary folder for a look.
README_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SHOTS = README_SHOTS if os.environ.get("CUBESERVER_SCREENSHOTS") else Path(tempfile.gettempdir()) / "cubeserver-screenshots"


def screenshot(page, name: str) -> None:
    """Save the page as <SHOTS>/<name>.png (256 colours: small files)."""
    from PIL import Image

    SHOTS.mkdir(parents=True, exist_ok=True)
    png = page.screenshot()
    img = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    img.save(SHOTS / f"{name}.png", optimize=True)


def pixels(png: bytes):
    """An (h, w, 3) uint8 array of a PNG screenshot."""
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def not_blank(png: bytes) -> float:
    """The fraction of pixels that differ from the image's most common colour."""
    import numpy as np

    a = pixels(png).reshape(-1, 3)
    colours, counts = np.unique(a, axis=0, return_counts=True)
    return 1.0 - counts.max() / len(a)
