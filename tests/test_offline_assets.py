"""The web pages need no other host (issue 14, item 5): no CDN reference anywhere in the package,
every vendored library pinned with its licence and shipped in the wheel, pages linking only /static,
a 'self'-only CSP, and every time step the viewer offers (the extent's) accepted by the tiles."""

from __future__ import annotations

import glob
import re
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

PKG = ROOT / "cubeserver"
STATIC = PKG / "static"
# hosts a page may name as plain text/identifiers (never loaded): OGC definitions and W3C/JSON schemas
ALLOWED_HOSTS = {"www.opengis.net", "schemas.opengis.net", "opengis.net", "www.w3.org", "json-schema.org"}
CDN = re.compile(r"unpkg\.com|jsdelivr|cdnjs|googleapis|gstatic|openstreetmap|tile\.osm|fastapi\.tiangolo\.com|"
                 r"bootstrapcdn|cloudflare|validator\.swagger\.io", re.I)
LOADS = [
    re.compile(r"<script[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//", re.I),
    re.compile(r"<link[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//", re.I),
    re.compile(r"<img[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//", re.I),
    re.compile(r"tileLayer\(\s*[\"'`](?:https?:)?//", re.I),
    re.compile(r"@import\s+(?:url\()?[\"']?(?:https?:)?//", re.I),
    re.compile(r"url\(\s*[\"']?(?:https?:)?//", re.I),
]


def own_files() -> list[Path]:
    """The package's templates, Python, CSS and JS, without the vendored libraries."""
    files = [p for p in PKG.rglob("*") if p.suffix in (".py", ".html", ".js", ".css") and p.is_file()]
    return [p for p in files if "vendor" not in p.relative_to(PKG).parts]


def test_no_cdn_or_remote_asset_anywhere_in_the_package():
    found = []
    for p in own_files():
        text = p.read_text(encoding="utf-8", errors="replace")
        for n, line in enumerate(text.splitlines(), 1):
            if CDN.search(line) or any(r.search(line) for r in LOADS):
                found.append(f"{p.relative_to(ROOT)}:{n}: {line.strip()[:120]}")
    assert not found, "remote assets / CDN hosts:\n" + "\n".join(found)


def test_pages_and_scripts_name_no_other_host():
    """Templates, our JS and CSS: every http(s) URL is an OGC/W3C identifier, never something to load."""
    found = []
    for p in own_files():
        if p.suffix == ".py":
            continue
        for host in re.findall(r"https?://([^/\"'\s)`]+)", p.read_text(encoding="utf-8")):
            if host not in ALLOWED_HOSTS:
                found.append(f"{p.relative_to(ROOT)}: {host}")
    assert not found, found


def vendor_pins() -> dict[str, str]:
    text = (ROOT / "tools" / "vendor_assets.sh").read_text()
    return dict(re.findall(r'^\s*"([a-z0-9-]+) (\d+\.\d+\.\d+) [0-9a-f]{64} ', text, re.M))


def test_vendored_libraries_are_pinned_and_licensed():
    pins = vendor_pins()
    assert {"leaflet", "swagger-ui-dist", "uplot", "world-atlas"} <= set(pins)
    dirs = sorted(p.name for p in (STATIC / "vendor").iterdir())
    assert dirs == sorted(f"{n}-{v}" for n, v in pins.items() if n != "world-atlas")
    for d in dirs:
        assert (STATIC / "vendor" / d / "LICENSE").stat().st_size > 200, f"{d} has no licence"
    from cubeserver.viewer import assets

    for rel in (assets.LEAFLET, assets.SWAGGER, assets.UPLOT):
        assert (STATIC / rel).is_dir(), rel


def test_every_static_file_is_package_data():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = conf["tool"]["setuptools"]["package-data"]["cubeserver"]
    shipped = {Path(f) for pat in patterns for f in glob.glob(str(PKG / pat), recursive=True)}
    missing = [str(p.relative_to(PKG)) for p in STATIC.rglob("*") if p.is_file() and p not in shipped]
    assert not missing, missing
    assert (PKG / "templates" / "viewer.html") in shipped


@pytest.mark.parametrize("path", ["/?f=html", "/docs", "/collections/coads/viewer", "/collections/places/items?f=html",
                                  "/collections/coads/position?coords=POINT(0 0)&f=html"])
def test_pages_load_only_from_this_server(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    refs = re.findall(r"<(?:script|link|img)[^>]*\b(?:src|href)=\"([^\"]+)\"", r.text)
    assert refs and all(ref.startswith("http://testserver/") for ref in refs), refs
    assert "<script>" not in r.text and " style=" not in r.text and "<style" not in r.text  # nothing inline
    csp = r.headers["content-security-policy"]
    assert "http" not in csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "script-src 'self'" in csp


def test_static_assets_are_cached_long(client):
    r = client.get("/static/vendor/leaflet-1.9.4/dist/leaflet.js")
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"] and r.headers.get("etag")
    again = client.get("/static/vendor/leaflet-1.9.4/dist/leaflet.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/static/../default_config.yaml").status_code == 404


def test_every_published_time_step_draws_a_tile(client):
    """The viewer offers the extent's time steps (whole seconds); tiles and EDR accept each of them,
    also where the file stores a fraction of a second (coads: 01:20:05.999999996)."""
    times = client.get("/collections/coads").json()["extent"]["temporal"]["values"]
    assert len(times) == 12
    for t in times:
        tile = client.get("/collections/coads/map/tiles/WebMercatorQuad/1/0/0", params={"properties": "SST", "datetime": t})
        assert tile.status_code == 200, (t, tile.text[:300])
    one = client.get("/collections/hybrid-height").json()["extent"]["temporal"]["values"]
    r = client.get("/collections/hybrid-height/position", params={"coords": "POINT(-3.116 52.415)", "datetime": one[0]})
    assert r.status_code == 200 and r.json()["domain"]["axes"]["t"]["values"] == one


def test_readme_links_stay_in_the_repository():
    """Issue 14 item 7: the README is read offline too (air-gapped deployments): its Markdown links point into
    the repository (the files exist), never to another site; names of outside projects are plain text."""
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
            assert not re.match(r"[a-z]+://", target), (doc.name, target)
            path = target.split("#", 1)[0]
            if path:
                assert (doc.parent / path).exists(), (doc.name, target)
