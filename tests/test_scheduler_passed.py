"""Request paths pass their dask scheduler to each compute, never through `dask.config.set(scheduler=...)`:
that setting is process-global, and two threads entering and leaving it interleaved leave the wrong
scheduler as the default for every later computation in the process."""

from __future__ import annotations

import dask
import pytest

REQUESTS = [
    ("/collections/coads/position", {"coords": "POINT(-30 40)"}),
    ("/collections/coads/cube", {"bbox": "-40,30,-20,50", "f": "NetCDF"}),
    ("/collections/coads/cube", {"bbox": "-40,30,-20,50", "f": "NetCDF4"}),
    ("/collections/coads/coverage", {"subset": "Lat(20:50),Lon(-60:-10)", "f": "netcdf4"}),
    ("/collections/coads/coverage", {"subset": "Lat(20:50),Lon(-60:-10)", "f": "geotiff"}),
    ("/collections/coads/map", {"width": "64", "height": "32"}),
    ("/collections/coads/map/tiles/WebMercatorQuad/1/0/0", {}),
    ("/collections/coads/zarr/SST/0.0.0", {}),
    ("/collections/coads/opendap.dods", {"SST[0:1:0][0:1:3][0:1:3]": ""}),
]


@pytest.fixture
def scheduler_sets(monkeypatch):
    seen = []
    real = dask.config.set

    def recording(arg=None, **kwargs):
        keys = set(kwargs) | set(arg or {})
        if "scheduler" in keys:
            seen.append(keys)
        return real(arg, **kwargs)

    monkeypatch.setattr(dask.config, "set", recording)
    return seen


def test_no_request_sets_the_process_scheduler(client, scheduler_sets):
    for path, params in REQUESTS:
        query = "&".join(f"{k}={v}" if v else k for k, v in params.items())
        r = client.get(f"{path}?{query}" if query else path)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
    assert scheduler_sets == []
