"""The compose topology (deploy/compose.yaml) run from the image with buildah on the host network.

No Docker here, so each service of deploy/compose.yaml is started the way compose would start it,
with its own command, environment, replicas and volumes read from that file: the dask scheduler
and its workers and the cubeserver replicas from the image, PostgreSQL (tests/pg.py) for the
`postgres` service and Debian's nginx with deploy/nginx.conf for the `proxy` service. Only what
compose's network gives differs: service names become 127.0.0.1 and fixed ports free ones; the
replicas run one gunicorn worker each (the machine's CPU budget), not the file's two.
From the host, through the proxy under /cubeserver/: links, an EDR query, an async job run on the
cluster, its status and result on both replicas (the shared job store and results volume).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import requests
import xarray as xr
import yaml

from tests import pg
from tests import test_subpath as subpath
from tests.conftest import ROOT, free_port, open_source

from . import buildah
from .conftest import wait_ready
from .test_image import UID, _metric, readable

pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]  # the first test may build the image
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _arg(cmd: list[str], flag: str) -> str:
    return cmd[cmd.index(flag) + 1]


def _set_arg(cmd: list[str], flag: str, value: str) -> list[str]:
    cmd = list(cmd)
    cmd[cmd.index(flag) + 1] = value
    return cmd


def volumes(service: dict, sources: dict[str, Path]) -> list[str]:
    """The service's compose volumes as `buildah run -v` binds: each source (a named volume or a
    file of deploy/) replaced by the host path the test made for it."""
    binds = []
    for spec in service.get("volumes", []):
        source, target, *mode = spec.split(":")
        binds.append(":".join([str(sources[source]), target, *mode]))
    return binds


@pytest.fixture(scope="module")
def topology(request, tmp_path_factory):
    reason = pg.missing() or (None if NGINX else "nginx is not installed (.ci/run installs nginx-light)")
    if reason:
        pytest.skip(reason)
    image = request.getfixturevalue("image")  # built only when the topology can run
    spec = compose()
    services = spec["services"]
    tmp = tmp_path_factory.mktemp("topology")
    readable(tmp)

    # the config the services mount (./cubeserver.yaml), pointed at the scheduler's free port
    sched_cmd = services["dask-scheduler"]["command"]
    worker_cmd = services["dask-worker"]["command"]
    config = yaml.safe_load((DEPLOY / "cubeserver.yaml").read_text())
    compose_address = f"tcp://dask-scheduler:{_arg(sched_cmd, '--port')}"
    assert config["dask"]["scheduler_address"] == compose_address  # the config, the scheduler and
    assert compose_address in worker_cmd  # the workers agree on where the scheduler is
    sched_port = free_port()
    address = f"tcp://127.0.0.1:{sched_port}"
    config["dask"]["scheduler_address"] = address
    (tmp / "etc").mkdir()
    (tmp / "etc" / "cubeserver.yaml").write_text(yaml.safe_dump(config))
    (tmp / "results").mkdir()
    os.chown(tmp / "results", UID, UID)
    readable(tmp)
    sources = {"./cubeserver.yaml": tmp / "etc" / "cubeserver.yaml", "results": tmp / "results"}

    with pg.PostgresServer() as db, buildah.running(
            image, _set_arg(_set_arg(sched_cmd, "--port", str(sched_port)), "--host", "127.0.0.1"),
            tmp / "scheduler.log", env=services["dask-scheduler"].get("environment"),
            volumes=volumes(services["dask-scheduler"], sources)) as scheduler:
        with _replicas(image, services["dask-worker"], "worker", tmp, sources,
                       cmd=[address if a == compose_address else a for a in worker_cmd]) as workers:
            deadline = time.monotonic() + 240
            logs = [tmp / f"worker-{i}.log" for i in range(len(workers))]
            while not all("Registered to" in log.read_text() for log in logs):
                for proc, log in [(scheduler, tmp / "scheduler.log"), *zip(workers, logs)]:
                    assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, [log.read_text()[-2000:] for log in logs]
                time.sleep(0.2)

            env = dict(services["cubeserver"]["environment"])
            store = urlsplit(env["CUBESERVER_JOBS_STORE"])
            pg_env = services["postgres"]["environment"]
            assert (store.hostname, store.port, store.username, store.password, store.path) == (
                "postgres", 5432, pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"], "/" + pg_env["POSTGRES_DB"])
            env["CUBESERVER_JOBS_STORE"] = db.url
            env["WEB_CONCURRENCY"] = "1"
            ports = [free_port() for _ in range(services["cubeserver"]["deploy"]["replicas"])]
            with _replicas(image, services["cubeserver"], "replica", tmp, sources, env=env, ports=ports) as replicas:
                for i, (proc, port) in enumerate(zip(replicas, ports)):
                    wait_ready(f"http://127.0.0.1:{port}/health", proc, tmp / f"replica-{i}.log")
                with nginx(tmp, ports) as proxy_port:
                    yield {"public": f"http://127.0.0.1:{proxy_port}/cubeserver", "proxy_port": proxy_port,
                           "replicas": [f"http://127.0.0.1:{p}" for p in ports], "ports": ports, "tmp": tmp, "db": db,
                           "workers": len(workers)}


class _replicas:
    """`deploy.replicas` containers of one compose service, each on its own port (CUBESERVER_PORT)."""

    def __init__(self, image, service, name, tmp, sources, cmd=None, env=None, ports=None):
        self.n = service.get("deploy", {}).get("replicas", 1)
        self.args = image, service, name, tmp, sources, cmd, env, ports
        self.stack = None

    def __enter__(self):
        image, service, name, tmp, sources, cmd, env, ports = self.args
        cmd = cmd or buildah.image_config(image)["Cmd"]
        self.stack = contextlib.ExitStack()
        procs = []
        for i in range(self.n):
            e = dict(env or service.get("environment") or {})
            if ports:
                e["CUBESERVER_PORT"] = str(ports[i])
            procs.append(self.stack.enter_context(buildah.running(image, cmd, tmp / f"{name}-{i}.log", env=e,
                                                                  volumes=volumes(service, sources))))
        return procs

    def __exit__(self, *exc):
        return self.stack.__exit__(*exc)


class nginx:
    """deploy/nginx.conf in Debian's nginx: listening on a free port, its upstream the replicas' ports."""

    def __init__(self, tmp: Path, ports: list[int]):
        self.dir = tmp / "nginx"
        self.ports = ports
        self.proc = None

    def __enter__(self) -> int:
        self.dir.mkdir()
        site = (DEPLOY / "nginx.conf").read_text()
        port = free_port()
        upstream = "".join(f"    server 127.0.0.1:{p};\n" for p in self.ports)
        site, n_up = re.subn(r"^    server cubeserver:8000;\n", upstream, site, flags=re.M)
        site, n_listen = re.subn(r"^    listen 80;$", f"    listen 127.0.0.1:{port};", site, flags=re.M)
        assert (n_up, n_listen) == (1, 1), "deploy/nginx.conf changed shape: adapt this test"
        (self.dir / "site.conf").write_text(site)
        temps = "\n".join(f"    {kind}_temp_path {self.dir / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                                  "uwsgi", "scgi"))
        (self.dir / "nginx.conf").write_text(f"""daemon off;
worker_processes 1;
pid {self.dir / 'nginx.pid'};
error_log {self.dir / 'error.log'} warn;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$upstream_addr $status "$request"';
    access_log {self.dir / 'access.log'} upstream;
{temps}
    include {self.dir / 'site.conf'};
}}
""")
        test = subprocess.run([NGINX, "-t", "-q", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")],
                              capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        self.proc = subprocess.Popen([NGINX, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(f"http://127.0.0.1:{port}/cubeserver/health", self.proc, self.dir / "error.log", timeout=60)
        return port

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def test_proxy_serves_the_api_under_the_sub_path(topology):
    public = topology["public"]
    host = urlsplit(public).netloc
    root = requests.get(f"http://{host}/", allow_redirects=False, timeout=30)
    assert root.status_code == 302 and root.headers["location"].endswith("/cubeserver/")
    bare = requests.get(f"http://{host}/cubeserver", allow_redirects=False, timeout=30)
    assert bare.status_code == 301 and bare.headers["location"].endswith("/cubeserver/")
    doc = requests.get(public + "/", timeout=30).json()
    assert doc["title"] == yaml.safe_load((DEPLOY / "cubeserver.yaml").read_text())["title"]
    collections = requests.get(public + "/collections", timeout=60).json()
    assert sorted(c["id"] for c in collections["collections"]) == sorted(
        yaml.safe_load((DEPLOY / "cubeserver.yaml").read_text())["collections"])
    # tests/test_subpath.py's tour of JSON and HTML answers, now through nginx and the image's gunicorn:
    # every link to this server is below the public sub-path (the proxy's X-Forwarded-Prefix)
    seen = 0
    for path in subpath.TOUR:
        r = requests.get(public + path, timeout=60)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        assert subpath.wrong_links(r, public) == [], path
        seen += len(subpath.links(r))
    assert seen > 500
    r = requests.get(public + "/collections/eraint/position", timeout=60,
                     params={"coords": "POINT(10.2 45.1)", "parameter-name": "u", "month": "7"})
    assert r.status_code == 200, r.text
    exp = open_source("eraint_uvz.nc").u.sel(month=7).sel(longitude=10.2, latitude=45.1, method="nearest")
    np.testing.assert_allclose(r.json()["ranges"]["u"]["values"], exp.values, rtol=1e-6)


def test_async_job_through_the_proxy_on_the_cluster_seen_by_both_replicas(topology):
    public, replicas = topology["public"], topology["replicas"]
    r = requests.post(public + "/processes/temporal-aggregate/execution", headers={"Prefer": "respond-async"},
                      json={"inputs": {"collection": "coads", "variables": "SST", "reducer": "max"}}, timeout=60)
    assert r.status_code == 201, r.text
    location = r.headers["location"]
    assert location.startswith(public + "/jobs/"), location
    deadline = time.monotonic() + 300
    while (status := requests.get(location, timeout=30).json())["status"] not in ("successful", "failed"):
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status["status"] == "successful", status
    assert subpath.wrong_links(requests.get(location, timeout=30), public) == []
    result = requests.get(location + "/results/result", timeout=60)
    assert result.status_code == 200, result.text
    with np.errstate(all="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        expected = np.nanmax(open_source("coads_sst.nc")["SST"].values, axis=0)
    out = xr.open_dataset(io.BytesIO(result.content), engine="h5netcdf")
    np.testing.assert_allclose(out["SST"].values, expected, equal_nan=True)

    # whichever replica took the job, both know it (PostgreSQL) and serve its result (the results volume)
    job = status["jobID"]
    for base in replicas:
        assert requests.get(f"{base}/jobs/{job}", timeout=30).json()["status"] == "successful", base
        again = requests.get(f"{base}/jobs/{job}/results/result", timeout=60)
        assert again.status_code == 200 and again.content == result.content, base
    import psycopg  # with the postgres extra (pg.missing() checked it)

    with psycopg.connect(topology["db"].url) as conn:
        assert conn.execute("SELECT status FROM jobs WHERE id = %s", (job,)).fetchone() == ("successful",)
    files = [p for p in (topology["tmp"] / "results").rglob("*") if p.is_file()]
    assert any(job in p.parts for p in files), files
    assert {p.stat().st_uid for p in files} == {UID}

    # the compose file's workers ran it: every replica sees all of them through the scheduler
    metrics = [requests.get(f"{base}/metrics", timeout=30).text for base in replicas]
    assert [_metric(m, "cubeserver_dask_workers") for m in metrics] == [topology["workers"]] * len(replicas)
    assert sum(_metric(m, r'cubeserver_dask_computations_total\{scheduler="distributed"\}') for m in metrics) >= 1


def test_proxy_spreads_requests_over_the_replicas(topology):
    for _ in range(6):
        assert requests.get(topology["public"] + "/conformance", timeout=30).status_code == 200
    log = (topology["tmp"] / "nginx" / "access.log").read_text().splitlines()
    used = {line.split()[0] for line in log if "/conformance" in line}
    assert used == {f"127.0.0.1:{p}" for p in topology["ports"]}, log[-10:]
