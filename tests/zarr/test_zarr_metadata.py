"""Consolidated Zarr v2 metadata through the in-process client: structure, CF attributes, links, 404s."""

from __future__ import annotations

import json

import numcodecs
import numpy as np
import xarray as xr
import pytest

from tests.conftest import DATASETS

from .conftest import GEOTIFFS, SOURCES


@pytest.mark.parametrize("cid", sorted(SOURCES))
def test_consolidated_metadata_matches_the_pieces(client, cid):
    r = client.get(f"/collections/{cid}/zarr/.zmetadata")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc["zarr_consolidated_format"] == 1
    meta = doc["metadata"]
    assert meta[".zgroup"] == {"zarr_format": 2}
    for key, value in meta.items():
        assert json.loads(client.get(f"/collections/{cid}/zarr/{key}").content) == value, key
    ds = client.app.state.ctx.registry.gridded(cid).ds
    assert {k.split("/")[0] for k in meta if "/" in k} == {str(n) for n in ds.variables}
    for name, var in ds.variables.items():
        za, attrs = meta[f"{name}/.zarray"], meta[f"{name}/.zattrs"]
        assert za["zarr_format"] == 2 and za["order"] == "C" and za["dimension_separator"] == "."
        assert za["shape"] == list(var.shape)
        assert attrs["_ARRAY_DIMENSIONS"] == list(var.dims)
        assert numcodecs.get_codec(za["compressor"]).codec_id == "blosc"
        assert "_FillValue" not in attrs  # it lives in .zarray fill_value
        if name in ds.coords:
            assert za["chunks"] == [max(1, n) for n in var.shape], "coordinates are one chunk"
        else:
            assert all(1 <= c <= n for c, n in zip(za["chunks"], var.shape))
            assert np.prod(za["chunks"]) * np.dtype(za["dtype"]).itemsize <= 1 << 20


def test_times_are_numbers_with_units_and_calendar(client):
    meta = client.get("/collections/cmip5-pr/zarr/.zmetadata").json()["metadata"]
    assert meta["time/.zarray"]["dtype"] == "<f8"
    assert meta["time/.zattrs"]["calendar"] == "365_day"
    assert meta["time/.zattrs"]["units"].startswith("days since 1850-01-01")
    coads = client.get("/collections/coads/zarr/TIME/.zattrs").json()
    assert coads["units"] == "hours since 2000-01-01" and coads["calendar"] == "proleptic_gregorian"


def test_packed_variables_stay_packed(client):
    meta = client.get("/collections/mur-sst/zarr/.zmetadata").json()["metadata"]
    assert meta["analysed_sst/.zarray"]["dtype"] == "<i2"
    assert meta["analysed_sst/.zarray"]["fill_value"] == -32768
    assert meta["analysed_sst/.zattrs"]["scale_factor"] == pytest.approx(0.001)
    assert meta["analysed_sst/.zattrs"]["add_offset"] == pytest.approx(298.15)
    era = client.get("/collections/eraint/zarr/z/.zattrs").json()
    assert {"scale_factor", "add_offset"} <= set(era)


@pytest.mark.parametrize("cid", GEOTIFFS)
def test_geotiff_bands_keep_grid_mapping(client, cid):
    meta = client.get(f"/collections/{cid}/zarr/.zmetadata").json()["metadata"]
    assert meta["band_1/.zattrs"]["grid_mapping"] == "spatial_ref"
    assert meta["band_1/.zattrs"]["_ARRAY_DIMENSIONS"] == ["y", "x"]
    assert "crs_wkt" in meta["spatial_ref/.zattrs"]
    assert meta["spatial_ref/.zarray"]["shape"] == [] and meta["spatial_ref/.zarray"]["chunks"] == []
    assert "spatial_ref" in meta[".zattrs"]["coordinates"].split()


def test_collection_links_to_the_store_and_shows_python(client):
    doc = client.get("/collections/coads?f=json").json()
    zl = [lk for lk in doc["links"] if lk["type"] == "application/vnd+zarr"]
    assert len(zl) == 1 and zl[0]["rel"] == "alternate" and zl[0]["href"].endswith("/collections/coads/zarr")
    assert doc["python_snippet"].splitlines() == [
        "import xarray as xr",
        f'ds = xr.open_zarr("{zl[0]["href"]}", zarr_format=2, consolidated=True)',
    ]
    page = client.get("/collections/coads?f=html").text
    assert "xr.open_zarr(" in page
    places = client.get("/collections/places?f=json").json()
    assert "python_snippet" not in places
    assert not [lk for lk in places["links"] if lk["type"] == "application/vnd+zarr"]


def test_store_root_describes_arrays(client):
    doc = client.get("/collections/eraint/zarr").json()
    assert doc["zarr_format"] == 2 and doc["arrays"]["z"]["shape"] == [2, 3, 241, 480]
    assert "xr.open_zarr" in doc["python"]


@pytest.mark.parametrize("path", [
    "/collections/coads/zarr/SST/12.0.0",  # beyond the chunk grid
    "/collections/coads/zarr/SST/0.0",  # too few indices
    "/collections/coads/zarr/SST/0.0.0.0",
    "/collections/coads/zarr/SST/-1.0.0",
    "/collections/coads/zarr/SST/00.0.0",
    "/collections/coads/zarr/SST/a.b.c",
    "/collections/coads/zarr/SST/0/0/0",
    "/collections/coads/zarr/SST/.zgroup",
    "/collections/coads/zarr/NOPE/0.0.0",
    "/collections/coads/zarr/NOPE/.zarray",
    "/collections/coads/zarr/zarr.json",
    "/collections/coads/zarr/SST",
    "/collections/coads/zarr/TIME/1",
    "/collections/landsat-rgb/zarr/spatial_ref/1",
    "/collections/nope/zarr/.zmetadata",
    "/collections/places/zarr/.zmetadata",
    "/collections/places/zarr",
])
def test_missing_keys_are_ogc_404s(client, path):
    r = client.get(path)
    assert r.status_code == 404, r.text
    body = r.json()
    assert body["status"] == 404 and body["type"].endswith("/NotFound")


def test_missing_chunk_names_shape_chunks_and_the_keys_there_are(client):
    """A 404 for a chunk key beyond the chunk grid says the array `shape`, its `chunks` (Zarr v2's name
    for the chunk shape) and the last key, read from the array's own .zarray."""
    za = client.get("/collections/coads/zarr/SST/.zarray").json()
    counts = [-(-n // c) for n, c in zip(za["shape"], za["chunks"])]
    beyond = ".".join([str(counts[0])] + ["0"] * (len(counts) - 1))
    detail = client.get(f"/collections/coads/zarr/SST/{beyond}").json()["detail"]
    assert f"shape {tuple(za['shape'])}" in detail and f"chunks (chunk shape) {tuple(za['chunks'])}" in detail
    assert "to " + ".".join(str(n - 1) for n in counts) in detail
    assert "chunk grid of " + " x ".join(map(str, counts)) in detail
    with xr.open_dataset(DATASETS / "coads_sst.nc") as src:
        assert src.SST.shape == tuple(za["shape"])


def test_store_is_read_only(client):
    assert client.put("/collections/coads/zarr/SST/0.0.0", content=b"x").status_code == 405
    assert client.delete("/collections/coads/zarr/.zmetadata").status_code == 405


def test_job_output_collections_get_a_store_too(client):
    from tests.processes.conftest import wait_job

    r = client.post("/processes/coarsen/execution", json={
        "inputs": {"collection": "coads", "variables": "SST", "factors": {"x": 2, "y": 2}}},
        headers={"Prefer": "respond-async"})
    jid = r.json()["jobID"]
    assert wait_job(client.get, f"/jobs/{jid}")["status"] == "successful"
    cid = f"job-{jid}"
    doc = client.get(f"/collections/{cid}?f=json").json()
    assert any(lk["type"] == "application/vnd+zarr" for lk in doc["links"])
    meta = client.get(f"/collections/{cid}/zarr/.zmetadata").json()["metadata"]
    assert meta["SST/.zarray"]["shape"] == [12, 45, 90]
    key = ".".join("0" for _ in meta["SST/.zarray"]["shape"])
    assert client.get(f"/collections/{cid}/zarr/SST/{key}").status_code == 200
    client.delete(f"/jobs/{jid}")
    assert client.get(f"/collections/{cid}/zarr/.zmetadata").status_code == 404
