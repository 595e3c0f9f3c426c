"""The image, built once per session, and servers of it on the host network (marker `container`).

Skipped where buildah is missing or the tests do not run as root (buildah's chroot isolation
needs it); `.ci/run` installs buildah, debootstrap and podman. Timings of the base, the build and
each server start are printed in the test report (`-rA` or the session's -ra summary of `print`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from . import buildah

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    reason = None
    if not buildah.BUILDAH:
        reason = "buildah is not installed (.ci/run installs it)"
    elif os.geteuid() != 0:
        reason = "buildah --isolation chroot needs root here"
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.container)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


TIMINGS: dict[str, float] = {}  # seconds
SIZES: dict[str, str] = {}


@pytest.fixture(scope="session")
def image() -> str:
    t0 = time.monotonic()
    base = buildah.base_image()
    TIMINGS["base image"] = time.monotonic() - t0
    t0 = time.monotonic()
    tag = buildah.build_image(base)
    TIMINGS["image build"] = time.monotonic() - t0
    SIZES["image"] = buildah.image_size(tag)
    return tag


def wait_ready(url: str, proc, log: Path, timeout: float = 300) -> None:
    """Until `url` answers 200; the log's tail if the process ends or the time is up."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                TIMINGS[f"ready {url.rsplit('/', 1)[0]}"] = time.monotonic() - t0
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready in {timeout} s:\n{log.read_text()[-4000:]}")


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_line("container timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in TIMINGS.items())
                                    + "; image size " + SIZES.get("image", "?"))
