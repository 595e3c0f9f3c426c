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
