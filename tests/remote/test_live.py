"""Live collections: a glob gains a file (a new model run) while requests flow; reloads by the admin endpoint,
by `cubeserver reload` (every process converges through the version file); Server-Sent Events."""

from __future__ import annotations

import json
import threading
import time

import httpx
import numpy as np
import pandas as pd
import xarray as xr

from tests.conftest import serve_in_thread
from tests.remote.conftest import app_client, remote_config

ADMIN, READER = "admin-key-123", "reader-key-456"
AUTH = {"api_keys": [{"name": "ops", "key": ADMIN, "roles": ["admin"]},
                     {"name": "reader", "key": READER, "roles": ["reader"]}], "protect": ["processes", "jobs"]}


def write_run(folder, day: int) -> None:
    """One forecast run (reference_time 2024-01-<day> 00Z) of 3 steps, values 100 * day + step."""
    run = pd.Timestamp(f"2024-01-{day:02d}")
    lat, lon = np.arange(40.5, 44.5), np.arange(0.5, 4.5)
    data = (100.0 * day + np.arange(3)[None, :, None, None] + 0 * lat[None, None, :, None]
            + 0 * lon[None, None, None, :]).astype("float32")
    ds = xr.Dataset({"t2m": (("reference_time", "step", "lat", "lon"), data, {"units": "K"})},
                    coords={"reference_time": ("reference_time", [run], {"standard_name": "forecast_reference_time"}),
                            "step": ("step", pd.to_timedelta([0, 6, 12], "h"), {"standard_name": "forecast_period"}),
                            "lat": ("lat", lat, {"standard_name": "latitude", "units": "degrees_north"}),
                            "lon": ("lon", lon, {"standard_name": "longitude", "units": "degrees_east"})})
    tmp = folder / f".run-{day:02d}.tmp"
    ds.to_netcdf(tmp)
    tmp.rename(folder / f"run-{day:02d}.nc")  # appears whole, as an upload would finish


def _runs(tmp_path, **collection):
    folder = tmp_path / "runs"
    folder.mkdir()
    write_run(folder, 1)
    write_run(folder, 2)
    cc = {"path": str(folder / "run-*.nc"), "format": "netcdf", "reference_time": "reference_time", **collection}
    return folder, cc


def _instances(client) -> list[str]:
    r = client.get("/collections/fc/instances")
    assert r.status_code == 200, r.text
    return sorted(i["id"] for i in r.json()["instances"])


def test_new_run_in_glob_is_served_while_requests_flow(tmp_path):
    folder, cc = _runs(tmp_path, refresh="1s")
    with app_client(remote_config(tmp_path, {"fc": cc}, live={"grace_s": 2}), tmp_path) as c:
        assert len(_instances(c)) == 2
        errors, answers, stop = [], [0], threading.Event()

        def hammer():
            while not stop.is_set():
                r = c.get("/collections/fc/position?coords=POINT(1.5 41.5)&f=CoverageJSON")
                if r.status_code != 200:
                    errors.append((r.status_code, r.text[:200]))
                answers[0] += 1

        threads = [threading.Thread(target=hammer) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            write_run(folder, 3)
            deadline = time.monotonic() + 30
            while len(_instances(c)) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert len(_instances(c)) == 3, "the new run was not picked up"
        assert errors == []
        assert answers[0] > 0
        iid = _instances(c)[-1]
        r = c.get(f"/collections/fc/instances/{iid}/position?coords=POINT(1.5 41.5)&f=CoverageJSON")
        assert r.status_code == 200, r.text
        assert r.json()["ranges"]["t2m"]["values"] == [300.0, 301.0, 302.0]


def test_admin_reload_needs_the_admin_role(tmp_path):
    folder, cc = _runs(tmp_path)
    with app_client(remote_config(tmp_path, {"fc": cc}, auth=AUTH), tmp_path) as c:
        assert c.post("/admin/reload").status_code == 401
        assert c.post("/admin/reload", headers={"X-API-Key": READER}).status_code == 403
        r = c.post("/admin/reload?collection=nope", headers={"X-API-Key": ADMIN})
        assert r.status_code == 404 and r.json()["parameter"] == "collection"
        r = c.post("/admin/reload?collection=fc", headers={"X-API-Key": ADMIN})
        assert r.status_code == 200, r.text
        assert r.json()["reloaded"] == ["fc"]  # forced: reopened even though nothing changed
        write_run(folder, 3)
        assert len(_instances(c)) == 2  # no refresh configured: nothing happens by itself
        r = c.post("/admin/reload", headers={"X-API-Key": ADMIN})
        assert r.json()["reloaded"] == ["fc"] and r.json()["version"] == 2
        assert len(_instances(c)) == 3


def test_cli_reload_reaches_every_process(tmp_path, capsys):
    """Two registries on one state folder stand for two server processes; `cubeserver reload` bumps the version
    file and both reload on their next poll."""
    import yaml

    from cubeserver.cli import main
    from cubeserver.config import load_config
    from cubeserver.live.refresher import Refresher
    from cubeserver.registry import Registry

    folder, cc = _runs(tmp_path)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(remote_config(tmp_path, {"fc": cc})))
    procs = []
    for _ in range(2):
        config = load_config(path)
        registry = Registry(config)
        procs.append((registry, Refresher(registry, config)))
    try:
        write_run(folder, 3)
        for registry, refresher in procs:
            refresher.tick()
            assert registry.get("fc").ds.sizes["reference_time"] == 2
        assert main(["reload", "--config", str(path), "--collection", "fc"]) == 0
        assert json.loads(capsys.readouterr().out)["version"] == 1
        assert main(["reload", "--config", str(path), "--collection", "nope"]) == 2
        for registry, refresher in procs:
            refresher.tick()
            assert registry.get("fc").ds.sizes["reference_time"] == 3
        assert len({r.get("fc").version for r, _ in procs}) == 1  # converged on the same version
    finally:
        for registry, _ in procs:
            registry.close()


def test_events_stream_announces_the_new_extent(tmp_path):
    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict

    folder, cc = _runs(tmp_path)
    config = config_from_dict(remote_config(tmp_path, {"fc": cc}, auth=AUTH, live={"heartbeat_s": 0.5,
                                                                                   "stream_s": 20}), tmp_path)
    app = create_app(config)
    try:
        with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=20) as http:
            assert http.get("/collections/nope/events").status_code == 404
            with http.stream("GET", "/collections/fc/events", headers={"Accept-Encoding": "gzip, br"}) as r:
                assert r.status_code == 200
                assert r.headers["content-type"].startswith("text/event-stream")
                assert "content-encoding" not in r.headers
                lines = r.iter_lines()
                assert next(lines).startswith("retry:")
                write_run(folder, 3)
                assert http.post("/admin/reload?collection=fc", headers={"X-API-Key": ADMIN}).status_code == 200
                event, data = None, None
                for line in lines:
                    if line.startswith("event:"):
                        event = line.split(":", 1)[1].strip()
                    elif line.startswith("data:"):
                        data = json.loads(line.split(":", 1)[1])
                        break
        assert event == "collection-updated"
        assert data["collection"] == "fc" and len(data["instances"]) == 3
        assert data["extent"]["spatial"]["bbox"][0] == [0.0, 40.0, 4.0, 44.0]
    finally:
        app.state.ctx.registry.close()


def test_cli_reload_converges_every_worker_of_a_real_server(tmp_path):
    """`cubeserver serve --workers 2` (two real uvicorn processes on one port): a new run file is not served
    until `cubeserver reload`; then, within a few polls of the version file, every answer on fresh
    connections (the kernel hands them to either process) lists the new instance, and none fails."""
    import requests
    import yaml

    from cubeserver.cli import main
    from tests.conftest import start_server

    folder, cc = _runs(tmp_path)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(remote_config(tmp_path, {"fc": cc}, live={"poll_s": 0.5})))
    proc, base = start_server(path, tmp_path, args=("--workers", "2"))

    def counts(n: int = 30) -> set[int]:
        seen = set()
        for _ in range(n):
            r = requests.get(f"{base}/collections/fc/instances", headers={"Connection": "close"}, timeout=30)
            assert r.status_code == 200, r.text
            seen.add(len(r.json()["instances"]))
        return seen

    try:
        assert counts() == {2}
        write_run(folder, 3)
        assert counts(10) == {2}  # no `refresh`: nothing changes by itself
        assert main(["reload", "--config", str(path), "--collection", "fc"]) == 0
        deadline = time.monotonic() + 30
        while (seen := counts()) != {3}:
            assert time.monotonic() < deadline, f"the workers did not converge: instance counts {seen}"
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(30)
