"""When collections are reloaded: each one's `refresh` poll, unavailable stores retried, and the reload
version file every server process watches (issue 16).

`POST /admin/reload` and `cubeserver reload` write `<state_dir>/reload.json` ({"seq": n, "collections":
[ids] or null for all}); every process (uvicorn workers, replicas sharing the state folder) polls it
every `live.poll_s` and reloads what it names once per new `seq`, so all of them converge on the same
versions. A collection's own `refresh` is a poll of its source's fingerprint: unchanged, nothing is
opened.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from pathlib import Path

from ..config_sections import seconds

log = logging.getLogger("cubeserver")
VERSION_FILE = "reload.json"


def version_file(config) -> Path:
    return Path(config.state_path) / VERSION_FILE


def read_version(config) -> tuple[int, list[str] | None]:
    """(seq, collection ids or None for all) of the version file; (0, None) when there is none (or unreadable)."""
    try:
        data = json.loads(version_file(config).read_text())
        return int(data["seq"]), data.get("collections")
    except (OSError, ValueError, KeyError, TypeError):
        return 0, None


def request_reload(config, ids: list[str] | None) -> int:
    """Write a new version (seq + 1) naming `ids` (None: all); returns it. Atomic (rename) and serialised by a
    lock file, so two writers never hand out the same seq."""
    path = version_file(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        seq = read_version(config)[0] + 1
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"seq": seq, "collections": ids, "at": time.time()}))
        os.replace(tmp, path)
    return seq


class Refresher:
    """One daemon thread per server process: polls the version file, the `refresh` collections and the
    unavailable ones, and closes replaced datasets after `live.grace_s`."""

    def __init__(self, registry, config):
        self.registry = registry
        self.config = config
        self.seen = read_version(config)[0]  # what was asked before this process started is already open
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one reload at a time (the thread and an admin request)
        now = time.monotonic()
        self.due = {cid: now + _interval(cc) for cid, cc in config.collections.items() if _interval(cc)}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cubeserver-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def reload(self, ids: list[str] | None, force: bool = True) -> dict[str, list[str]]:
        """Reload `ids` (None: every configured collection) now; {"reloaded", "unchanged", "unavailable"}."""
        out: dict[str, list[str]] = {"reloaded": [], "unchanged": [], "unavailable": []}
        with self._lock:
            for cid in ids if ids is not None else list(self.config.collections):
                try:
                    changed = self.registry.reload(cid, force=force)
                except Exception as e:  # noqa: BLE001 - a store that cannot be asked: keep serving what is open
                    log.warning("reload of %s: the source cannot be checked (%s)", cid, type(e).__name__)
                    changed = False
                key = "reloaded" if changed else "unavailable" if cid in self.registry.unavailable else "unchanged"
                out[key].append(cid)
        return out

    def tick(self) -> None:
        """One round: the version file, then what is due."""
        seq, ids = read_version(self.config)
        if seq > self.seen:
            self.seen = seq
            known = [c for c in ids if c in self.config.collections] if ids is not None else None
            self.reload(known)
        now = time.monotonic()
        retry = self.config.remote.retry_s
        for cid in list(self.registry.unavailable):
            if self.due.get(cid, 0) <= now:
                self.due[cid] = now + min(retry, _interval(self.config.collections[cid]) or retry)
                self.reload([cid], force=False)
        for cid, at in list(self.due.items()):
            cc = self.config.collections[cid]
            if at <= now and _interval(cc) and cid not in self.registry.unavailable:
                self.due[cid] = now + _interval(cc)
                self.reload([cid], force=False)
        self.registry.close_retired(self.config.live.grace_s)

    def _run(self) -> None:
        step = min([self.config.live.poll_s, *(_interval(cc) for cc in self.config.collections.values()
                                               if _interval(cc))])
        while not self._stop.wait(max(0.2, min(step, 5.0))):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the poller must outlive any one failure
                log.exception("live refresh round failed")


def _interval(cc) -> float | None:
    return seconds(cc.refresh) if cc.refresh else None
