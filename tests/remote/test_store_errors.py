"""Store failures named for what they are (403, refused, no Range support, unknown option) and answered as
503 StoreUnavailable outside /collections/{id} too: WMS, a process job, an MCP tool (issue 16, new-user pass)."""

from __future__ import annotations

import contextlib
import http.server
import threading

import pytest

from tests.conftest import DATASETS, free_port
from tests.remote.conftest import BUCKET, SECRET, app_client, remote_config


@contextlib.contextmanager
def http_server(handler):
    """A real HTTP server on 127.0.0.1 with `handler`; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Forbidden(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):  # noqa: N802 - the standard library's names
        self.send_response(403)
        self.end_headers()

    do_GET = do_HEAD

    def log_message(self, *args):
        pass


class NoRanges(http.server.SimpleHTTPRequestHandler):  # the standard library's server ignores Range
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(DATASETS), **kwargs)

    def log_message(self, *args):
        pass


def _problems(raw: dict, root) -> dict:
    from cubeserver.config import config_from_dict
    from cubeserver.registry import Registry

    registry = Registry(config_from_dict(raw, root), skip_broken=True)
    try:
        lines = {**{k: " ".join(v) for k, v in registry.problems.items()}, **registry.unavailable}
        return {k: str(v) for k, v in lines.items()}
    finally:
        registry.close()


def test_http_403_refused_and_rangeless_servers_are_named_as_such(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with http_server(Forbidden) as forbidden, http_server(NoRanges) as plain:
        raw = remote_config(tmp_path, {
            "denied": {"path": f"{forbidden}/coads_sst.nc"},
            "refused": {"path": f"{dead}/coads_sst.nc"},
            "norange": {"path": f"{plain}/eraint_uvz.nc"},  # 4 MB: more than one block
        }, remote={"timeout_s": 2, "block_size": 65536})
        lines = _problems(raw, tmp_path)
    assert "denied (403)" in lines["denied"] and "not found" not in lines["denied"], lines
    assert "cannot be reached" in lines["refused"] and "not found" not in lines["refused"], lines
    assert "byte ranges" in lines["norange"] and "ValueError" not in lines["norange"], lines


def test_unknown_storage_option_and_missing_credentials_are_explained(s3, tmp_path, monkeypatch):
    endpoint, options, _ = s3
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    raw = remote_config(tmp_path, {
        "typo": {"path": f"s3://{BUCKET}/coads_sst.nc", "storage_options": {**options, "colour": "red"}},
        "nokeys": {"path": f"s3://{BUCKET}/awi/*.nc", "format": "netcdf", "storage_options": {"endpoint_url": endpoint}},
    }, remote={"timeout_s": 2})
    lines = _problems(raw, tmp_path)
    assert "storage_options" in lines["typo"] and "'colour'" in lines["typo"] and "TypeError" not in lines["typo"]
    assert "no credentials" in lines["nokeys"] and "NoCredentialsError" not in lines["nokeys"], lines
    assert SECRET not in " ".join(lines.values())


def test_kerchunk_reference_to_a_missing_file_names_the_target(tmp_path):
    import json

    kerchunk_hdf = pytest.importorskip("kerchunk.hdf")
    refs = kerchunk_hdf.SingleHdf5ToZarr(str(DATASETS / "coads_sst.nc"), inline_threshold=0).translate()
    gone = str(tmp_path / "gone" / "coads_sst.nc")
    (tmp_path / "refs.json").write_text(json.dumps(refs).replace(str(DATASETS / "coads_sst.nc"), gone))
    lines = _problems(remote_config(tmp_path, {"k": {"path": "refs.json", "format": "kerchunk"}}), tmp_path)
    assert "the reference refs.json points at was not found" in lines["k"], lines
    assert "ReferenceNotReachable" not in lines["k"] and str(tmp_path) not in lines["k"]
    lines = _problems(remote_config(tmp_path, {"k": {"path": str(tmp_path / "refs.json"), "format": "kerchunk"}}),
                      tmp_path)
    assert "the reference refs.json points at" in lines["k"] and str(tmp_path) not in lines["k"], lines


def test_store_down_is_503_for_wms_processes_and_mcp(s3, tmp_path):
    _, options, fs = s3
    fs.copy(f"{BUCKET}/coads_sst.nc", f"{BUCKET}/doomed2.nc")
    raw = remote_config(tmp_path, {"doomed": {"path": f"s3://{BUCKET}/doomed2.nc", "storage_options": options}},
                        limits={"chunk_cache_bytes": 0}, remote={"block_size": 4096, "block_cache_bytes": 0,
                                                                  "retry_s": 45})
    with app_client(raw, tmp_path) as c:
        fs.rm(f"{BUCKET}/doomed2.nc")
        fs.invalidate_cache()
        answers = {
            "wms": c.get("/wms?SERVICE=WMS&REQUEST=GetMap&VERSION=1.3.0&LAYERS=doomed/AIRT&CRS=CRS:84&STYLES="
                         "&BBOX=-180,-90,180,90&WIDTH=60&HEIGHT=30&FORMAT=image/png"),
            "process": c.post("/processes/temporal-aggregate/execution", json={
                "inputs": {"collection": "doomed", "variables": ["AIRT"], "reducer": "max"}, "response": "document"}),
        }
        for where, r in answers.items():
            assert r.status_code == 503, (where, r.text)
            body = r.json()
            assert body["code"] == "StoreUnavailable" and "doomed" in body["detail"], (where, body)
            assert r.headers["Retry-After"] == "45", where
            assert SECRET not in r.text and "Traceback" not in r.text and "127.0.0.1" not in r.text
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "point_series", "arguments": {"collection": "doomed", "lon": 100, "lat": -20,
                                                                 "variables": ["UWND"]}}}
        r = c.post("/mcp", json=call, headers={"Accept": "application/json, text/event-stream"})
        assert r.status_code == 200, r.text
        result = r.json()["result"]
        assert result["isError"] is True
        assert "503" in result["content"][0]["text"] and "doomed" in result["content"][0]["text"], result
        assert SECRET not in r.text and "127.0.0.1" not in r.text


def test_icechunk_unknown_ref_is_named_and_check_config_counts_every_collection(tmp_path, capsys):
    icechunk = pytest.importorskip("icechunk")
    import xarray as xr
    import yaml

    from cubeserver.cli import main

    repo = icechunk.Repository.create(icechunk.local_filesystem_storage(str(tmp_path / "repo")))
    session = repo.writable_session("main")
    ds = xr.open_dataset(DATASETS / "coads_sst.nc").isel(TIME=slice(0, 2)).load()
    for v in ds.variables.values():
        v.encoding = {}
    ds.to_zarr(session.store, consolidated=False)
    session.commit("two months")
    repo_path = str(tmp_path / "repo")
    raw = remote_config(tmp_path, {
        "ok": {"path": repo_path, "format": "icechunk"},
        "notag": {"path": repo_path, "format": "icechunk", "icechunk": {"tag": "nope"}},
        "nobranch": {"path": repo_path, "format": "icechunk", "icechunk": {"branch": "dev"}},
        "twice": {"path": repo_path, "format": "icechunk", "icechunk": {"branch": "main", "tag": "v1"}},
        "gone": {"path": str(tmp_path / "nothing.nc")},
    })
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    assert main(["check-config", str(tmp_path / "c.yaml")]) == 2
    err = capsys.readouterr().err
    assert "collections.notag.icechunk: the repository has no tag 'nope'" in err, err
    assert "collections.nobranch.icechunk: the repository has no branch 'dev'" in err, err
    assert "IcechunkError" not in err
    assert "4 of 5 collections broken" in err, err


@contextlib.contextmanager
def black_hole():
    """A TCP server that accepts connections and never answers (a store that hangs); yields its URL."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def run():
        while not stop.is_set():
            try:
                accepted.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for c in accepted:
            c.close()
        sock.close()


def test_a_hanging_s3_store_is_unavailable_within_a_few_timeouts(tmp_path):
    import time

    with black_hole() as endpoint:
        raw = remote_config(tmp_path, {"hang": {"path": f"s3://{BUCKET}/coads_sst.nc", "storage_options": {
            "endpoint_url": endpoint, "key": "k", "secret": SECRET}}}, remote={"timeout_s": 1})
        started = time.monotonic()
        lines = _problems(raw, tmp_path)
        elapsed = time.monotonic() - started
    assert "did not answer in time" in lines["hang"], lines
    assert elapsed < 10, f"{elapsed:.1f} s for timeout_s 1 (s3fs's own retries multiply botocore's)"
