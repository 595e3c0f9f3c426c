"""`cubeserver serve` keeps libraries that log each block read at INFO (fsspec, pint, ...) to their warnings."""

from __future__ import annotations

import logging

from cubeserver.cli import CHATTY_LIBRARIES, quiet_libraries


def test_chatty_libraries_quiet_at_info_and_loud_at_debug():
    saved = {n: logging.getLogger(n).level for n in CHATTY_LIBRARIES}
    try:
        for n in CHATTY_LIBRARIES:
            logging.getLogger(n).setLevel(logging.NOTSET)
        quiet_libraries("DEBUG")
        assert all(logging.getLogger(n).level == logging.NOTSET for n in CHATTY_LIBRARIES)
        quiet_libraries("INFO")
        assert not logging.getLogger("fsspec.caching").isEnabledFor(logging.INFO)
        assert logging.getLogger("fsspec.caching").isEnabledFor(logging.WARNING)
        assert not logging.getLogger("pint.util").isEnabledFor(logging.WARNING)
        assert logging.getLogger("cubeserver").getEffectiveLevel() == logging.getLogger().getEffectiveLevel()
    finally:
        for n, level in saved.items():
            logging.getLogger(n).setLevel(level)


def test_xclim_docstring_choices_are_not_logged_on_the_root_logger():
    """Importing xclim logs ~20 "Choice not found. Ignoring: ..." INFO lines on the root logger (its docstring
    parser), at every server start; loading the catalogue drops them, any other root record is kept. In a new
    interpreter: xclim logs them once, at its import."""
    import subprocess
    import sys

    import pytest

    pytest.importorskip("xclim")
    script = ("import logging; logging.basicConfig(level=logging.INFO, format='%(name)s %(message)s')\n"
              "from cubeserver.processes import xclim as catalogue\n"
              "assert catalogue.load()\n"
              "logging.info('Choice not found: from somebody else')\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [line for line in run.stderr.splitlines() if "Choice not found" in line]
    assert lines == ["root Choice not found: from somebody else"], lines[:3]
