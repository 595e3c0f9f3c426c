"""`/static`: the package's web assets, served by the server itself (no CDN), cached long.

Vendored libraries live under versioned folders (`vendor/leaflet-1.9.4/`) and never change: they are
`immutable` for a year. The package's own CSS/JS are linked with `?v=<content hash>` (ASSET_VERSION),
so a new release changes their URL and they can be cached as long.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "static"
CACHE = "public, max-age=31536000, immutable"

# versions of the vendored libraries, as pinned in tools/vendor_assets.sh
LEAFLET = "vendor/leaflet-1.9.4/dist"
SWAGGER = "vendor/swagger-ui-dist-5.35.0"
UPLOT = "vendor/uplot-1.6.32/dist"


def asset_version() -> str:
    """A short hash of the package's own static files (not the vendored ones, which are versioned)."""
    h = hashlib.sha256()
    for p in sorted(STATIC.rglob("*")):
        if p.is_file() and "vendor" not in p.relative_to(STATIC).parts:
            h.update(str(p.relative_to(STATIC)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:12]


class CachedStaticFiles(StaticFiles):
    """StaticFiles with a long `Cache-Control` on every file it serves (ETag/304 come from Starlette)."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = CACHE
        return response


def install_static(app, ctx) -> None:
    app.mount("/static", CachedStaticFiles(directory=STATIC), name="static")
    version = asset_version()
    ctx.jinja.globals.update(asset_v=version, leaflet=LEAFLET, swagger=SWAGGER, uplot=UPLOT)
