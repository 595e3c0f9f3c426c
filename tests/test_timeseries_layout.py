"""The time-series copy of a collection (issue 15 item 5): built by `cubeserver build-timeseries`, used by
the selection when it touches fewer bytes, never used once the source has changed.

Every answer is compared with xarray on the source Zarr (an independent read), in every EDR point format,
with the copy in use, after the source changed (stale copy: the source answers) and after a rebuild.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from cubeserver.cli import main as cli
from tests.conftest import client_for

NT, NY, NX = 240, 12, 16


def _source(path):
    """A Zarr chunked for maps (10 steps x whole grid): float32 with NaNs and an int16 packed variable."""
    rng = np.random.default_rng(3)
    t = pd.date_range("2001-01-01", periods=NT, freq="h")
    lat = np.linspace(40.25, 45.75, NY)
    lon = np.linspace(5.25, 12.75, NX)
    temp = (280 + 10 * rng.standard_normal((NT, NY, NX))).astype("float32")
    temp[5, 2, 3] = np.nan
    packed = (rng.integers(-3000, 3000, (NT, NY, NX)) * 0.01 + 20.0).astype("float32")
    packed[7, 4, 4] = np.nan  # written as the int16 _FillValue
    ds = xr.Dataset(
        {"tas": (("time", "lat", "lon"), temp, {"units": "K", "standard_name": "air_temperature"}),
         "pr": (("time", "lat", "lon"), packed, {"units": "mm", "long_name": "precipitation"})},
        coords={"time": ("time", t, {"standard_name": "time"}),
                "lat": ("lat", lat, {"standard_name": "latitude", "units": "degrees_north"}),
                "lon": ("lon", lon, {"standard_name": "longitude", "units": "degrees_east"})})
    enc = {"tas": {"chunks": (10, NY, NX)},
           "pr": {"chunks": (10, NY, NX), "scale_factor": 0.01, "add_offset": 20.0, "_FillValue": -32767,
                  "dtype": "int16"}}
    ds.to_zarr(path, mode="w", encoding=enc, consolidated=True)
    return path


@pytest.fixture
def setup(tmp_path):
    src = _source(tmp_path / "src.zarr")
    collections = {"ts": {"path": str(src), "timeseries": {"chunks": {"lat": 4, "lon": 4}}}}
    cfg = tmp_path / "server.yaml"
    cfg.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), "collections": collections}))
    return src, cfg, collections


def _build(cfg, capsys, cid="ts"):
    assert cli(["build-timeseries", "--config", str(cfg), cid]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _expected(src, lon, lat, name, tsel=slice(None)):
    with xr.open_zarr(src) as ds:
        return ds[name].sel(lon=lon, lat=lat, method="nearest").isel(time=tsel).values


def _check_all_formats(client, src, lon, lat, params=None, tsel=slice(None)):
    params = {"coords": f"POINT({lon} {lat})", **(params or {})}
    for name in ("tas", "pr"):
        want = _expected(src, lon, lat, name, tsel)
        r = client.get("/collections/ts/position", params={**params, "parameter-name": name})
        assert r.status_code == 200, r.text
        # CoverageJSON writes the shortest text that reads back as the same value of the variable's dtype
        got = np.array([np.nan if v is None else v for v in r.json()["ranges"][name]["values"]], dtype=want.dtype)
        np.testing.assert_array_equal(got, want)
        r = client.get("/collections/ts/position", params={**params, "parameter-name": name, "f": "csv"})
        assert r.status_code == 200, r.text
        table = pd.read_csv(io.StringIO(r.text))
        np.testing.assert_allclose(table[name].to_numpy(dtype="float64"), want.astype("float64"), rtol=1e-6,
                                   equal_nan=True)
        r = client.get("/collections/ts/position", params={**params, "parameter-name": name, "f": "geojson"})
        assert r.status_code == 200, r.text
        values = [f["properties"].get(name) for f in r.json()["features"]]
        np.testing.assert_allclose(np.array([np.nan if v is None else v for v in values], dtype="float64"),
                                   want.astype("float64"), rtol=1e-6, equal_nan=True)
        r = client.get("/collections/ts/position", params={**params, "parameter-name": name, "f": "netcdf"})
        assert r.status_code == 200, r.text
        with xr.open_dataset(io.BytesIO(r.content)) as nc:
            np.testing.assert_array_equal(np.ravel(nc[name].values), want)


def _registry(client):
    return client.app.state.ctx.registry


def _layout(client):
    return _registry(client).get("ts").extra["timeseries"]


def test_answers_equal_the_source_with_the_copy(setup, tmp_path, capsys):
    src, cfg, collections = setup
    built = _build(cfg, capsys)
    assert built["chunks"]["tas"] == {"time": NT, "lat": 4, "lon": 4}
    with client_for(collections, tmp_path) as client:
        _check_all_formats(client, src, 7.1, 42.3)
        _check_all_formats(client, src, 5.25, 40.25, {"datetime": "2001-01-01T05:00:00Z/2001-01-02T02:00:00Z"},
                           slice(5, 27))
        _check_all_formats(client, src, 9.4, 41.0, {"datetime": "2001-01-01T07:00:00Z"}, slice(7, 8))
        assert _layout(client).status == "in sync"


def test_the_copy_is_what_answers(setup, tmp_path, capsys):
    """Proof the copy is read for a point series: change a value in the copy only (its source is unchanged)."""
    src, cfg, collections = setup
    built = _build(cfg, capsys)
    with xr.open_zarr(built["path"]) as copy:
        iy, ix = int(np.abs(copy.lat.values - 42.3).argmin()), int(np.abs(copy.lon.values - 7.1).argmin())
    marked = _expected(src, 7.1, 42.3, "tas").copy()
    marked[:] = 123.5
    patch = xr.Dataset({"tas": (("time", "lat", "lon"), np.full((NT, 4, 4), 123.5, "float32"))})
    y0, x0 = iy // 4 * 4, ix // 4 * 4
    patch.to_zarr(built["path"], region={"time": slice(0, NT), "lat": slice(y0, y0 + 4), "lon": slice(x0, x0 + 4)},
                  consolidated=False)
    with client_for(collections, tmp_path) as client:
        r = client.get("/collections/ts/position", params={"coords": "POINT(7.1 42.3)", "parameter-name": "tas"})
        assert r.json()["ranges"]["tas"]["values"] == [123.5] * NT
        # a whole-grid map of one step is cheaper from the source: it answers (unchanged values there)
        r = client.get("/collections/ts/cube", params={"bbox": "5,40,13,46", "datetime": "2001-01-01T03:00:00Z",
                                                        "parameter-name": "tas"})
        with xr.open_zarr(src) as ds:
            want = ds.tas.isel(time=3).values
        got = np.array([np.nan if v is None else v for v in r.json()["ranges"]["tas"]["values"]], "float32")
        np.testing.assert_array_equal(got.reshape(want.shape), want)


def test_source_change_makes_the_copy_stale_until_rebuilt(setup, tmp_path, capsys):
    src, cfg, collections = setup
    _build(cfg, capsys)
    with client_for(collections, tmp_path) as client:
        _check_all_formats(client, src, 7.1, 42.3)
        layout = _layout(client)
        assert layout.status == "in sync"
        # rewrite some chunks of the source in place (metadata untouched): the copy must not answer any more
        new = xr.Dataset({"tas": (("time", "lat", "lon"), np.full((20, NY, NX), 250.25, "float32"))})
        new.to_zarr(src, region={"time": slice(20, 40), "lat": slice(0, NY), "lon": slice(0, NX)}, consolidated=False)
        _check_all_formats(client, src, 7.1, 42.3)
        assert _expected(src, 7.1, 42.3, "tas")[25] == 250.25
        assert layout.status.startswith("stale")
        _build(cfg, capsys)  # the command rebuilds; the running server notices the new copy
        _check_all_formats(client, src, 7.1, 42.3)
        assert layout.status == "in sync"


def test_multipoint_and_trajectory_equal_the_source(setup, tmp_path, capsys):
    src, cfg, collections = setup
    _build(cfg, capsys)
    with client_for(collections, tmp_path) as client:
        r = client.get("/collections/ts/position", params={"coords": "MULTIPOINT((7.1 42.3),(11.9 45.5))",
                                                           "parameter-name": "tas", "f": "csv"})
        assert r.status_code == 200, r.text
        table = pd.read_csv(io.StringIO(r.text))
        for lon, lat in ((7.1, 42.3), (11.9, 45.5)):
            want = _expected(src, lon, lat, "tas")
            with xr.open_zarr(src) as ds:
                cx = float(ds.lon.sel(lon=lon, method="nearest"))
                cy = float(ds.lat.sel(lat=lat, method="nearest"))
            rows = table[np.isclose(table["longitude"], cx) & np.isclose(table["latitude"], cy)]
            np.testing.assert_allclose(rows["tas"].to_numpy("float64"), want, rtol=1e-6, equal_nan=True)
        r = client.get("/collections/ts/trajectory", params={
            "coords": "LINESTRINGM(6 41 978307200, 12 45 978393600)", "parameter-name": "tas"})
        assert r.status_code == 200, r.text
        doc = r.json()
        comp = doc["domain"]["axes"]["composite"]["values"]
        with xr.open_zarr(src) as ds:
            want = [float(ds.tas.sel(time=pd.Timestamp(t.rstrip("Z")), lon=x, lat=y, method="nearest"))
                    for t, x, y in comp]
        np.testing.assert_allclose(doc["ranges"]["tas"]["values"], want, rtol=1e-6)


def test_bytes_decide_the_layout(setup, tmp_path, capsys):
    """Points and small windows over many steps read the copy; one step of the whole grid reads the source."""
    from cubeserver.select.layouts import bytes_touched, stored_chunks

    src, cfg, collections = setup
    _build(cfg, capsys)
    with client_for(collections, tmp_path) as client:
        c = _registry(client).get("ts")
        var = c.ds["tas"].variable
        copy = c.extra["timeseries"].chunks("tas")
        src_chunks = stored_chunks(var)
        assert src_chunks[0][0] == 10 and copy == {"time": NT, "lat": 4, "lon": 4}
        point = {"lat": 3, "lon": 5}
        assert bytes_touched(var, copy, point, None) == NT * 16 * 4
        assert bytes_touched(var, src_chunks, point, None) == (NT // 10) * 10 * NY * NX * 4
        one_map = {"time": 3}
        assert bytes_touched(var, copy, one_map, None) > bytes_touched(var, src_chunks, one_map, None)
        pts = {"lat": np.array([0, 1, 8]), "lon": np.array([0, 1, 9])}
        assert bytes_touched(var, copy, {}, pts) == 2 * NT * 16 * 4


def test_cli_and_config_problems(setup, tmp_path, capsys):
    src, cfg, collections = setup
    assert cli(["build-timeseries", "--config", str(cfg), "nope"]) == 2
    assert "no collection 'nope'" in capsys.readouterr().err
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), "collections": {"ts": {"path": str(src)}}}))
    assert cli(["build-timeseries", "--config", str(plain), "ts"]) == 2
    assert "collections.ts.timeseries: not set" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"collections": {"ts": {"path": str(src), "timeseries": {"chunks": {"time": 0}}}}}))
    assert cli(["build-timeseries", "--config", str(bad), "ts"]) == 2
    assert "collections.ts.timeseries.chunks" in capsys.readouterr().err
    # check-config says where the copy is and whether it is used
    flag = tmp_path / "flag.yaml"
    flag.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"),
                                    "collections": {"ts": {"path": str(src), "timeseries": True}}}))
    assert cli(["check-config", str(flag)]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert line["timeseries"]["status"] == "missing"


def test_remembered_choices_equal_the_computed_ones(setup, tmp_path, capsys):
    """select.layouts remembers the cheaper layout per selection pattern on the layout: every remembered choice
    is what bytes_touched decides, positions of single cells do not multiply the entries, a reload forgets them."""
    from cubeserver.select.layouts import bytes_touched, stored_chunks

    src, cfg, collections = setup
    _build(cfg, capsys)
    with client_for(collections, tmp_path) as client:
        layout = _layout(client)
        for lon, lat in ((7.1, 42.3), (5.25, 40.25), (9.4, 41.0)):
            _check_all_formats(client, src, lon, lat)
            _check_all_formats(client, src, lon, lat, {"datetime": "2001-01-01T07:00:00Z"}, slice(7, 8))
        r = client.get("/collections/ts/cube", params={"bbox": "5,40,13,46", "datetime": "2001-01-01T03:00:00Z",
                                                        "parameter-name": "tas"})
        assert r.status_code == 200
        var = _registry(client).get("ts").ds["tas"].variable
        patterns = {key for _, key in layout.choices}
        assert len(patterns) == 3, patterns  # all steps, one step, the map's window: not one entry per point
        for (name, key), cheaper in layout.choices.items():
            idx = {d: (1 if not k else slice(*k)) for d, *k in key}
            copy_bytes = bytes_touched(var, layout.chunks(name), idx, None)
            assert cheaper == (copy_bytes < bytes_touched(var, stored_chunks(var), idx, None)), key
        assert any(v for v in layout.choices.values())  # a point series: the copy
        _build(cfg, capsys)  # rebuilt: reloaded on the next request, choices forgotten
        _check_all_formats(client, src, 7.1, 42.3)
        assert {key for _, key in layout.choices} == {(("lat",), ("lon",))}  # the others are forgotten


def test_point_reads_are_cached_chunks_without_dask_and_never_stale(setup, tmp_path, capsys):
    """The copy's point reads index the shared chunk cache's blocks without a dask graph (sources.cached_array);
    a chunk of the copy rewritten while the server runs is read again (the cache versions every chunk)."""
    from xarray.core import indexing

    from cubeserver.sources.cached_array import CachedBlocksArray

    src, cfg, collections = setup
    built = _build(cfg, capsys)
    with client_for(collections, tmp_path) as client:
        params = {"coords": "POINT(7.1 42.3)", "parameter-name": "tas"}
        first = client.get("/collections/ts/position", params=params).json()["ranges"]["tas"]["values"]
        np.testing.assert_allclose(first, _expected(src, 7.1, 42.3, "tas"), rtol=1e-6)
        direct = _layout(client).variables(direct=True)["tas"]
        assert isinstance(direct._data, indexing.LazilyIndexedArray)
        assert isinstance(direct._data.array, CachedBlocksArray)
        with xr.open_zarr(built["path"]) as copy:
            iy, ix = int(np.abs(copy.lat.values - 42.3).argmin()), int(np.abs(copy.lon.values - 7.1).argmin())
        y0, x0 = iy // 4 * 4, ix // 4 * 4
        patch = xr.Dataset({"tas": (("time", "lat", "lon"), np.full((NT, 4, 4), -7.25, "float32"))})
        patch.to_zarr(built["path"], region={"time": slice(0, NT), "lat": slice(y0, y0 + 4), "lon": slice(x0, x0 + 4)},
                      consolidated=False)
        again = client.get("/collections/ts/position", params=params).json()["ranges"]["tas"]["values"]
        assert again == [-7.25] * NT
