"""The web viewer and the offline web assets (issue 14, item 5).

`install(app, ctx)` serves:
- `/static/...`: the package's own CSS/JS (`cubeserver/static/*.css`, `static/viewer/*.js`) and the
  vendored libraries (`static/vendor/<name>-<version>/`, fetched from npm by tools/vendor_assets.sh,
  each with its licence), with long `Cache-Control` (pages link them with a content hash `?v=`);
- `/docs`: Swagger UI from the vendored copy (FastAPI's own page loads it from a CDN);
- `/collections/{id}/viewer`: a map page per gridded collection (Leaflet on the server's own map
  tiles, the Natural Earth countries as base layer, time/level/extra-dimension pickers, legend,
  a click plots the EDR position time series and profile);
- the HTML view of EDR query answers (`f=html`), registered as `ctx.services["edr_html"]`.
No page loads anything from another host, so the Content-Security-Policy can be `'self'` only.
"""

from __future__ import annotations

from .assets import install_static
from .pages import install_pages


def install(app, ctx) -> None:
    install_static(app, ctx)
    install_pages(app, ctx)
