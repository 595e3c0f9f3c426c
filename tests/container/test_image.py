"""The image as users run it: built with buildah, served from it on the host network, checked from the host.

Server A is the image as it comes (its CMD: gunicorn with 2 uvicorn workers, the bundled datasets).
Server B takes everything from outside: a config file and a data folder mounted from the host, the
state directory on a host folder, the sub-path `/cubeserver` (CUBESERVER_ROOT_PATH), and a dask
scheduler and worker that are themselves commands of the image, which run its async jobs.
Values are compared with xarray on the source files, never with answers of our own code.
"""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import xarray as xr
import yaml

from tests.conftest import DATASETS, ROOT, free_port, open_source

from . import buildah
from .conftest import wait_ready

pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]  # the first test builds the image (minutes, cold)
UID = 10001


@pytest.fixture(scope="module")
def server_a(image, tmp_path_factory):
    """The image's own CMD with its defaults, on a free port."""
    tmp = tmp_path_factory.mktemp("server-a")
    port = free_port()
    cmd = buildah.image_config(image)["Cmd"]
    log = tmp / "server.log"
    with buildah.running(image, cmd, log, env={"CUBESERVER_PORT": str(port)}) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/health", proc, log)
        yield base, proc, port


@pytest.fixture(scope="module")
def host_files(tmp_path_factory):
    """A config and a data folder on the host, and a host folder for the state (owned by the image's user)."""
    tmp = tmp_path_factory.mktemp("server-b")
    (tmp / "etc").mkdir()
    (tmp / "data").mkdir()
    (tmp / "state").mkdir()
    os.chown(tmp / "state", UID, UID)
    lat, lon = np.arange(40.0, 50.0, 1.0), np.arange(0.0, 10.0, 1.0)
    temp = np.add.outer(lat, lon / 100.0)[None, :, :] + np.arange(3.0)[:, None, None]
    xr.Dataset({"temp": (("time", "lat", "lon"), temp, {"units": "K", "standard_name": "air_temperature"})},
               coords={"time": np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[ns]"),
                       "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
                       "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})}
               ).to_netcdf(tmp / "data" / "host_grid.nc")
    readable(tmp)
    return tmp


def readable(folder: Path) -> None:
    """Let the image's user read what the test wrote (pytest's folders are root's alone)."""
    folder.chmod(0o755)
    for p in folder.rglob("*"):
        if p.stat().st_uid == 0:
            p.chmod(0o755 if p.is_dir() else 0o644)


@pytest.fixture(scope="module")
def dask_in_image(image, tmp_path_factory):
    """`dask scheduler` and one `dask worker` from the image; yields the scheduler address once the worker joined."""
    tmp = tmp_path_factory.mktemp("dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    with buildah.running(image, ["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                         tmp / "scheduler.log") as scheduler:
        with buildah.running(image, ["dask", "worker", address, "--name", "image-worker", "--nthreads", "1",
                                     "--no-nanny", "--no-dashboard", "--memory-limit", "1GiB", "--host", "127.0.0.1"],
                             tmp / "worker.log") as worker:
            deadline = time.monotonic() + 180
            while "Registered to" not in (tmp / "worker.log").read_text():
                for p, name in ((scheduler, "scheduler"), (worker, "worker")):
                    assert p.poll() is None, (tmp / f"{name}.log").read_text()[-3000:]
                assert time.monotonic() < deadline, (tmp / "worker.log").read_text()[-3000:]
                time.sleep(0.2)
            yield address, tmp


@pytest.fixture(scope="module")
def server_b(image, host_files, dask_in_image):
    port = free_port()
    config = {"title": "cubeserver from a host config", "dask": {"scheduler_address": dask_in_image[0]},
              "collections": {"coads": {"path": "/opt/cubeserver/datasets/coads_sst.nc", "title": "COADS (image)"},
                              "host-grid": {"path": "/data/host_grid.nc", "title": "a grid from the host"}}}
    (host_files / "etc" / "config.yaml").write_text(yaml.safe_dump(config))
    readable(host_files / "etc")
    log = host_files / "server.log"
    env = {"CUBESERVER_PORT": str(port), "CUBESERVER_CONFIG": "/etc/cubeserver/config.yaml", "WEB_CONCURRENCY": "1",
           "CUBESERVER_ROOT_PATH": "/cubeserver"}
    volumes = [f"{host_files / 'etc'}:/etc/cubeserver:ro", f"{host_files / 'data'}:/data:ro",
               f"{host_files / 'state'}:/var/lib/cubeserver"]
    with buildah.running(image, buildah.image_config(image)["Cmd"], log, env=env, volumes=volumes) as proc:
        # as behind a proxy that strips the prefix: requests without it, links with it
        direct = f"http://127.0.0.1:{port}"
        wait_ready(direct + "/health", proc, log)
        yield direct, direct + "/cubeserver", host_files


def test_image_config(image):
    cfg = buildah.image_config(image)
    assert cfg["User"].split(":")[0] == str(UID)
    assert "8000/tcp" in cfg["ExposedPorts"]
    assert "/health" in " ".join(cfg["Healthcheck"]["Test"])
    assert cfg["Cmd"][0] == "gunicorn"
    assert not any("host-ca" in e or "PIP_CERT" in e for e in cfg["Env"])  # the build's CA never reaches the image


def test_image_holds_no_build_leftovers(image):
    """Nothing the build needed stays in the image: no apt package cache or indexes (87 MB with a
    debootstrapped base, whose apt keeps them), and no copy of the host's CA bundle or of the CAs the
    host added (a proxy's), which the build only had mounted for its RUN steps."""
    with buildah.mounted(image) as root:
        var_files = [p for p in (root / "var").rglob("*") if p.is_file() and not p.is_symlink()]
        assert [str(p.relative_to(root)) for p in var_files if p.suffix in (".deb", ".bin")] == []
        assert [str(p.relative_to(root)) for p in var_files if p.stat().st_size > 1 << 20] == []
        assert not any((root / "var/lib/apt/lists").glob("*_Packages*"))
        # buildah leaves the empty mount point of the RUN steps' bind behind, never its content
        assert not (root / "host-ca.crt").exists() or (root / "host-ca.crt").stat().st_size == 0
        bundle = (root / "etc/ssl/certs/ca-certificates.crt").read_text()
        for added in Path("/usr/local/share/ca-certificates").rglob("*.crt"):
            for pem in re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", added.read_text(), re.S):
                assert pem not in bundle, f"the host's {added.name} is in the image"
        if buildah.HOST_CA.exists():
            host = buildah.HOST_CA.read_bytes()
            same = [str(p.relative_to(root)) for p in buildah.files_of_size(root, len(host)) if p.read_bytes() == host]
            assert same == []


def test_landing_page_serves_the_bundled_datasets(server_a):
    base = server_a[0]
    doc = requests.get(base + "/", timeout=30).json()
    assert doc["title"] == "cubeserver demo"
    assert all(link["href"].startswith(base) for link in doc["links"] if "127.0.0.1" in link["href"])
    ids = [c["id"] for c in requests.get(base + "/collections", timeout=60).json()["collections"]]
    bundled = yaml.safe_load((ROOT / "cubeserver" / "default_config.yaml").read_text())["collections"]
    assert sorted(ids) == sorted(bundled)
    assert requests.get(base + "/", headers={"Accept": "text/html"}, timeout=30).text.lstrip().startswith("<!")


def test_edr_position_matches_xarray(server_a):
    src = open_source("eraint_uvz.nc")
    r = requests.get(server_a[0] + "/collections/eraint/position", timeout=60,
                     params={"coords": "POINT(10.2 45.1)", "parameter-name": "u", "month": "7"})
    assert r.status_code == 200, r.text
    cov = r.json()
    exp = src.u.sel(month=7).sel(longitude=10.2, latitude=45.1, method="nearest")
    assert cov["domain"]["axes"]["z"]["values"] == [int(v) for v in exp.level.values]
    np.testing.assert_allclose(cov["ranges"]["u"]["values"], exp.values, rtol=1e-6)


def test_grib_through_the_images_eccodes(server_a):
    src = xr.open_dataset(DATASETS / "CMC_glb_TMP_TGL_2_latlon.15x.15_2020081000_P000.grib2", engine="cfgrib",
                          backend_kwargs={"indexpath": ""})
    var = next(iter(src.data_vars))
    r = requests.get(server_a[0] + "/collections/gem-global/position", timeout=60,
                     params={"coords": "POINT(10.2 45.1)", "parameter-name": var})
    assert r.status_code == 200, r.text
    exp = src[var].sel(longitude=10.2, latitude=45.1, method="nearest")
    np.testing.assert_allclose(np.ravel(r.json()["ranges"][var]["values"]), np.ravel(exp.values), rtol=1e-6)


def test_server_runs_as_non_root(server_a):
    pids = [p for p in buildah.session_pids(server_a[1].pid)
            if buildah.cmdline(p).startswith("/opt/venv/bin/python3 /opt/venv/bin/gunicorn")]
    assert len(pids) >= 3  # the master and WEB_CONCURRENCY=2 workers
    assert {buildah.uid_of(p) for p in pids} == {UID}


def test_healthcheck_command_passes(image, server_a, tmp_path):
    """The image's HEALTHCHECK, run as it is in a container of the image against server A."""
    test = buildah.image_config(image)["Healthcheck"]["Test"]
    assert test[0] == "CMD-SHELL"
    with buildah.running(image, ["sh", "-c", test[1]], tmp_path / "check.log",
                         env={"CUBESERVER_PORT": str(server_a[2])}) as proc:
        assert proc.wait(120) == 0, (tmp_path / "check.log").read_text()
    with buildah.running(image, ["sh", "-c", test[1]], tmp_path / "check2.log",
                         env={"CUBESERVER_PORT": str(free_port())}) as proc:
        assert proc.wait(120) != 0  # nothing listens there: the check fails


def test_mounted_config_data_and_state_are_used(server_b):
    base, public, host = server_b
    doc = requests.get(base + "/", timeout=30).json()
    assert doc["title"] == "cubeserver from a host config"
    ids = sorted(c["id"] for c in requests.get(base + "/collections", timeout=30).json()["collections"])
    assert ids == ["coads", "host-grid"]
    r = requests.get(base + "/collections/host-grid/position", timeout=60,
                     params={"coords": "POINT(3.2 44.9)", "parameter-name": "temp"})
    assert r.status_code == 200, r.text
    exp = xr.open_dataset(host / "data" / "host_grid.nc").temp.sel(lon=3.2, lat=44.9, method="nearest")
    np.testing.assert_allclose(r.json()["ranges"]["temp"]["values"], exp.values)
    # every link carries the sub-path the server was given (CUBESERVER_ROOT_PATH)
    hrefs = [link["href"] for link in requests.get(base + "/collections/host-grid", timeout=30).json()["links"]]
    own = [h for h in hrefs if "127.0.0.1" in h]
    assert own and all(h.startswith(public + "/") or h.startswith(public + "?") for h in own)


def test_async_job_runs_on_the_images_dask_worker(server_b):
    base, public, host = server_b
    r = requests.post(base + "/processes/temporal-aggregate/execution", headers={"Prefer": "respond-async"},
                      json={"inputs": {"collection": "coads", "variables": "SST", "reducer": "max"}}, timeout=60)
    assert r.status_code == 201, r.text
    assert r.headers["location"].startswith(public + "/jobs/")
    status_url = base + r.headers["location"][len(public):]  # what the proxy would forward
    deadline = time.monotonic() + 240
    while (status := requests.get(status_url, timeout=30).json())["status"] not in ("successful", "failed"):
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status["status"] == "successful", status
    result = requests.get(status_url + "/results/result", timeout=60)
    assert result.status_code == 200
    out = xr.open_dataset(io.BytesIO(result.content), engine="h5netcdf")
    with np.errstate(all="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        expected = np.nanmax(open_source("coads_sst.nc")["SST"].values, axis=0)
    np.testing.assert_allclose(out["SST"].values, expected, equal_nan=True)
    metrics = requests.get(base + "/metrics", timeout=30).text
    assert _metric(metrics, r'cubeserver_dask_workers') == 1  # the image's worker, via its scheduler
    assert _metric(metrics, r'cubeserver_dask_computations_total\{scheduler="distributed"\}') >= 1
    # the job store and the result files are in the state folder mounted from the host
    files = [p.relative_to(host / "state") for p in (host / "state").rglob("*") if p.is_file()]
    assert Path("jobs.sqlite") in files, files
    assert any(p.parts[0] == "jobs" and status["jobID"] in p.parts for p in files), files
    assert {(host / "state" / p).stat().st_uid for p in files} == {UID}


def _metric(text: str, pattern: str) -> float:
    m = re.search(rf"^{pattern} ([0-9.e+-]+)$", text, re.M)
    assert m, pattern
    return float(m.group(1))


def test_bad_config_exits_2_with_one_line_per_problem(image, tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"collections": {"x": {"path": "/data/missing.nc",
                                                                                 "chunks": {"time": 0}}}}))
    readable(tmp_path)
    env = {"CUBESERVER_CONFIG": "/etc/cubeserver/config.yaml", "CUBESERVER_PORT": str(free_port())}
    with buildah.running(image, buildah.image_config(image)["Cmd"], tmp_path / "log", env=env,
                         volumes=[f"{tmp_path}:/etc/cubeserver:ro"]) as proc:
        assert proc.wait(120) == 2, (tmp_path / "log").read_text()[-2000:]
    lines = [line for line in (tmp_path / "log").read_text().splitlines() if line.startswith("config error:")]
    assert any("collections.x.chunks" in line for line in lines), lines
    assert "Traceback" not in (tmp_path / "log").read_text()


@pytest.mark.parametrize("source", ["compose", "k8s"])
def test_deploy_configs_check_in_the_image(image, tmp_path, source):
    """deploy/cubeserver.yaml (compose) and the Kubernetes ConfigMap's config pass `cubeserver check-config`
    inside the image, whose paths they name."""
    if source == "compose":
        text = (ROOT / "deploy" / "cubeserver.yaml").read_text()
    else:
        docs = list(yaml.safe_load_all((ROOT / "deploy" / "k8s" / "cubeserver.yaml").read_text()))
        text = next(d for d in docs if d["kind"] == "ConfigMap")["data"]["config.yaml"]
    (tmp_path / "config.yaml").write_text(text)
    readable(tmp_path)
    with buildah.running(image, ["cubeserver", "check-config", "/etc/cubeserver/config.yaml"], tmp_path / "log",
                         volumes=[f"{tmp_path}:/etc/cubeserver:ro"]) as proc:
        assert proc.wait(300) == 0, (tmp_path / "log").read_text()[-3000:]
    served = [line for line in (tmp_path / "log").read_text().splitlines() if line.startswith("{")]
    assert len(served) == len(yaml.safe_load(text)["collections"])
