"""Rate limits shared by several server processes (`limits.rate_storage: redis://...`).

A real Debian `redis-server` started in a temp dir on a free port and two real `cubeserver serve`
processes on it: executions on A and on B count against one limit, so the client that used its
share on A is refused on B (429 with Retry-After).
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import requests
import yaml

from tests.conftest import DATASETS, free_port, start_server

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed (Debian package "
                                "redis-server; .ci/run installs it)")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("redis")
    port = free_port()
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp), "--save", "",
                             "--appendonly", "no", "--protected-mode", "no"],
                            stdout=open(tmp / "redis.log", "w"), stderr=subprocess.STDOUT)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"redis-server did not start: {(tmp / 'redis.log').read_text()[-2000:]}")
            time.sleep(0.1)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(15)


def _execute(base: str):
    return requests.post(f"{base}/processes/echo/execution", json={"inputs": {"message": "hi"}}, timeout=60)


def test_two_server_processes_share_one_count(redis_url, tmp_path):
    import redis

    cfg = tmp_path / "server.yaml"
    cfg.write_text(yaml.safe_dump({
        "state_dir": str(tmp_path / "state"), "collections": {"coads": {"path": str(DATASETS / "coads_sst.nc")}},
        "limits": {"execute_rate": "3/minute", "rate_storage": redis_url}}))
    servers = [start_server(cfg, tmp_path) for _ in range(2)]
    try:
        (_, a), (_, b) = servers
        assert [_execute(a).status_code for _ in range(2)] == [200, 200]
        assert _execute(b).status_code == 200  # the third of three, on the other process
        refused = _execute(b)  # B has executed once itself: only the shared count says no
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) >= 1 and refused.json()["parameter"] == "execute"
        assert _execute(a).status_code == 429
        assert redis.Redis.from_url(redis_url).keys("*")  # the counts live in redis, not in either process
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(20)


def test_rate_storage_must_be_a_storage_uri(tmp_path):
    from cubeserver.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match="limits.rate_storage"):
        config_from_dict({"collections": {}, "limits": {"rate_storage": "localhost:6379"}}, tmp_path)
    ok = config_from_dict({"collections": {}, "limits": {"rate_storage": "memcached://cache:11211"}}, tmp_path)
    assert ok.limits.rate_storage == "memcached://cache:11211"
