"""Collections read from a real S3-compatible server (moto) and over plain HTTP, compared with the local files."""

from __future__ import annotations

import logging

import pytest
import xarray as xr

from tests.conftest import DATASETS
from tests.remote.conftest import BUCKET, SECRET, app_client, position, ranges, remote_config


@pytest.fixture(scope="module")
def both(s3, tmp_path_factory):
    """One app serving every file twice: from s3:// (and http://) and from the local datasets folder."""
    endpoint, options, _ = s3
    tmp = tmp_path_factory.mktemp("s3app")
    so = {"storage_options": options}
    collections = {
        "sst-s3": {"path": f"s3://{BUCKET}/analysed_sst.zarr", **so},
        "sst": {"path": str(DATASETS / "analysed_sst.zarr")},
        "sst3-s3": {"path": f"s3://{BUCKET}/sst_v3.zarr", **so},
        "era-s3": {"path": f"s3://{BUCKET}/eraint_uvz.nc", **so},
        "era": {"path": str(DATASETS / "eraint_uvz.nc")},
        "coads-s3": {"path": f"s3://{BUCKET}/coads_sst.nc", **so},
        "coads": {"path": str(DATASETS / "coads_sst.nc")},
        "cog-s3": {"path": f"s3://{BUCKET}/cogeo.tif", **so},
        "cog": {"path": str(DATASETS / "cogeo.tif")},
        "era-http": {"path": f"{endpoint}/{BUCKET}/eraint_uvz.nc"},  # plain HTTP GETs with Range (fsspec http)
        "awi-s3": {"path": f"s3://{BUCKET}/awi/*.nc", "format": "netcdf", **so},
        "awi": {"path": str(DATASETS / "cmip6_awi_ta" / "*.nc"), "format": "netcdf"},
    }
    awi_local = sorted((DATASETS / "cmip6_awi_ta").glob("*.nc"))[:3]
    collections["awi"]["path"] = str(tmp / "awi" / "*.nc")
    (tmp / "awi").mkdir()
    for f in awi_local:
        (tmp / "awi" / f.name).symlink_to(f)
    with app_client(remote_config(tmp, collections), tmp) as c:
        yield c


@pytest.mark.parametrize("remote,local,lon,lat", [
    ("sst-s3", "sst", -27.5, 40.5), ("sst3-s3", "sst", -27.2, 40.9), ("era-s3", "era", 10.0, 45.0), ("coads-s3", "coads", -30.0, 10.0),
    ("era-http", "era", -120.0, -30.0), ("awi-s3", "awi", 1.0, 88.5)])
def test_values_match_local(both, remote, local, lon, lat):
    got = position(both, remote, lon, lat)
    want = position(both, local, lon, lat)
    assert got == want
    assert any(v is not None for vals in got.values() for v in vals)


def test_cog_over_s3_matches_local(both):
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(3857, 4326, always_xy=True).transform(14322100.0, 4532700.0)
    got = position(both, "cog-s3", lon, lat)
    assert got == position(both, "cog", lon, lat)
    assert all(v is not None for vals in got.values() for v in vals)


def test_cube_from_s3_matches_local(both):
    q = "/cube?bbox=-27.8,40.2,-27.2,40.8&f=CoverageJSON"
    r1, r2 = both.get("/collections/sst-s3" + q), both.get("/collections/sst" + q)
    assert r1.status_code == r2.status_code == 200, r1.text
    assert ranges(r1.json()) == ranges(r2.json())


def test_collection_documents_list_remote_extents(both):
    a = both.get("/collections/era-s3").json()["extent"]
    b = both.get("/collections/era").json()["extent"]
    assert a == b


def test_secret_never_in_answers_or_logs(both, caplog):
    caplog.set_level(logging.DEBUG)
    for path in ("/collections", "/collections/sst-s3", "/openapi", "/collections/sst-s3/position?coords=POINT(-27.5 40.5)"):
        assert SECRET not in both.get(path).text
    assert SECRET not in caplog.text


def test_unreachable_denied_and_missing_stores_answer_503_others_work(s3, tmp_path):
    endpoint, options, _ = s3
    collections = {
        "missing": {"path": f"s3://{BUCKET}/nothing-here.zarr", "storage_options": options},
        "denied": {"path": f"s3://{BUCKET}/coads_sst.nc", "storage_options": {"anon": True, "endpoint_url": endpoint}},
        "down": {"path": f"s3://{BUCKET}/analysed_sst.zarr",
                 "storage_options": {**options, "endpoint_url": "http://127.0.0.1:9"}},  # nothing listens there
        "ok": {"path": f"s3://{BUCKET}/eraint_uvz.nc", "storage_options": options},
    }
    raw = remote_config(tmp_path, collections, remote={"timeout_s": 2, "retry_s": 60})
    with app_client(raw, tmp_path) as c:  # the server starts although three stores fail
        for cid, words in (("missing", "not found"), ("denied", "denied (403)"), ("down", "cannot be reached")):
            r = c.get(f"/collections/{cid}/position?coords=POINT(0 0)")
            assert r.status_code == 503, r.text
            body = r.json()
            assert body["code"] == "StoreUnavailable"
            assert cid in body["detail"] and words in body["detail"], body
            assert r.headers["Retry-After"] == "60"
            assert SECRET not in r.text
            assert c.get(f"/collections/{cid}").status_code == 503
        assert c.get("/collections/ok/position?coords=POINT(0 0)").status_code == 200
        listed = [x["id"] for x in c.get("/collections").json()["collections"]]
        assert listed == ["ok"]


def test_object_removed_after_open_is_503_not_500(s3, tmp_path):
    _, options, fs = s3
    fs.copy(f"{BUCKET}/coads_sst.nc", f"{BUCKET}/doomed.nc")
    raw = remote_config(tmp_path, {"doomed": {"path": f"s3://{BUCKET}/doomed.nc", "storage_options": options}},
                        limits={"chunk_cache_bytes": 0}, remote={"block_size": 4096, "block_cache_bytes": 0})
    with app_client(raw, tmp_path) as c:
        fs.rm(f"{BUCKET}/doomed.nc")
        fs.invalidate_cache()
        r = c.get("/collections/doomed/position?coords=POINT(100 -20)&parameter-name=AIRT")
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "StoreUnavailable" and "doomed" in r.json()["detail"]
        assert c.get("/collections").status_code == 200  # the server goes on


def test_check_config_names_missing_remote_object(s3, tmp_path):
    from cubeserver.config import config_from_dict
    from cubeserver.registry import Registry

    _, options, _ = s3
    config = config_from_dict(remote_config(tmp_path, {"x": {"path": f"s3://{BUCKET}/gone.nc",
                                                             "storage_options": options}}), tmp_path)
    reg = Registry(config)
    try:
        assert "x" in reg.unavailable and "not found" in reg.unavailable["x"]
    finally:
        reg.close()


def test_validators_are_the_same_in_every_process(s3, tmp_path):
    """Two apps (two server processes) on one config give a remote collection the same ETag and Last-Modified
    (the objects' own modification time, not when each process opened them), so a 304 holds across them."""
    _, options, _ = s3
    raw = remote_config(tmp_path, {"era": {"path": f"s3://{BUCKET}/eraint_uvz.nc", "storage_options": options}})
    url = "/collections/era/position?coords=POINT(10 45)&f=CoverageJSON"
    with app_client(raw, tmp_path) as a:
        first = a.get(url).headers
    with app_client(raw, tmp_path) as b:
        second = b.get(url)
        assert (second.headers["etag"], second.headers["last-modified"]) == (first["etag"], first["last-modified"])
        assert b.get(url, headers={"If-None-Match": first["etag"]}).status_code == 304


def test_s3_glob_file_and_zarr_append_are_reloaded(s3, tmp_path):
    """A file uploaded under a glob, and a time step appended to a Zarr store, are seen by the next reload."""
    import numpy as np

    _, options, fs = s3
    for f in fs.glob(f"{BUCKET}/awi/*.nc")[:2]:
        fs.copy(f, f"{BUCKET}/live-awi/{f.rsplit('/', 1)[1]}")
    fs.copy(f"{BUCKET}/sst_v3.zarr", f"{BUCKET}/live-sst.zarr", recursive=True)
    collections = {"awi": {"path": f"s3://{BUCKET}/live-awi/*.nc", "format": "netcdf", "storage_options": options},
                   "sst": {"path": f"s3://{BUCKET}/live-sst.zarr", "storage_options": options}}
    with app_client(remote_config(tmp_path, collections), tmp_path) as c:
        registry = c.app.state.ctx.registry
        before = c.get("/collections/awi").json()["extent"]["temporal"]["interval"][0]
        assert registry.reload("awi") is False and registry.reload("sst") is False  # nothing changed
        third = sorted(fs.glob(f"{BUCKET}/awi/*.nc"))[2]
        fs.copy(third, f"{BUCKET}/live-awi/{third.rsplit('/', 1)[1]}")
        assert registry.reload("awi") is True
        after = c.get("/collections/awi").json()["extent"]["temporal"]["interval"][0]
        assert after[0] == before[0] and after[1] > before[1]

        n = registry.get("sst").ds.sizes["time"]
        store = fs.get_mapper(f"{BUCKET}/live-sst.zarr")
        with xr.open_zarr(store) as ds:
            last = ds.isel(time=[-1]).load()
        last = last.assign_coords(time=last.time + np.timedelta64(1, "D"))
        last.to_zarr(store, append_dim="time", consolidated=False)
        assert registry.reload("sst") is True
        assert registry.get("sst").ds.sizes["time"] == n + 1


def test_check_config_reports_an_unavailable_store_without_its_secret(s3, tmp_path, capsys):
    import yaml

    from cubeserver.cli import main

    _, options, _ = s3
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(remote_config(tmp_path, {
        "gone": {"path": f"s3://{BUCKET}/gone.zarr", "storage_options": options},
        "era": {"path": f"s3://{BUCKET}/eraint_uvz.nc", "storage_options": options}})))
    assert main(["check-config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert '"id": "era"' in out
    assert "collections.gone.path: [store] s3://cubes/gone.zarr was not found in the store (404)" in err
    assert SECRET not in out + err
