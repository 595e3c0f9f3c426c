"""Browser tests: Playwright's Python package driving Debian's Chromium (never a downloaded browser)
against the real CLI server on 127.0.0.1, with every request to another host aborted and recorded.

`CUBESERVER_CHROMIUM` overrides the browser path; without a browser binary the tests are skipped.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import default_server

CHROMIUM = os.environ.get("CUBESERVER_CHROMIUM") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
LOCAL = {"127.0.0.1"}


def _browser_path() -> str | None:
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which(CHROMIUM)


@pytest.fixture(scope="package")
def browser():
    """Chromium for the tests of this package. Package scope, not session: Playwright's sync API keeps an
    asyncio loop running in the main thread while it is open, which breaks every later test that calls
    asyncio.run (the HTTP streaming tests) if it stays open until the session ends."""
    path = _browser_path()
    if path is None:
        pytest.skip(f"no Chromium binary at {CHROMIUM} (set CUBESERVER_CHROMIUM to a chromium executable)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The real CLI (uvicorn) serving the bundled default config on 127.0.0.1."""
    with default_server(tmp_path_factory.mktemp("browser")) as (_, base):
        yield base


@dataclass
class Watched:
    """A page with what it did: requests made, requests blocked (other hosts), console errors."""
    page: object
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def check_clean(self) -> None:
        assert not self.blocked, f"requests to other hosts: {self.blocked}"
        assert not self.errors, f"console errors: {self.errors}"
        assert not self.failed, f"failed requests: {self.failed}"


@pytest.fixture
def watched(browser):
    """A fresh page; any request to a host other than 127.0.0.1 is aborted and recorded. The test
    ends with `watched.check_clean()` (also checked here, after the test, unless the test failed)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, service_workers="block")
    page = context.new_page()
    w = Watched(page)

    def route(r):
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host in LOCAL:
            return r.continue_()
        w.blocked.append(r.request.url)
        return r.abort()

    page.route("**/*", route)
    page.on("request", lambda req: w.requests.append(req.url))
    page.on("console", lambda m: w.errors.append(f"{m.type}: {m.text} ({m.location.get('url', '')})")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: w.errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda req: w.failed.append(f"{req.url}: {req.failure}")
            if urlsplit(req.url).hostname in LOCAL else None)
    page.on("response", lambda resp: w.failed.append(f"{resp.url}: HTTP {resp.status}")
            if resp.status >= 400 else None)
    yield w
    context.close()
