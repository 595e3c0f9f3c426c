"""Remote collections: the same stores read from a local S3-compatible server (moto) and from local disk.

For a Zarr store (analysed_sst.zarr) and an HDF5 NetCDF (coads_sst.nc), each served from s3:// and from
its local path, reports the median wall time of: opening the collection (Registry), an EDR point time
series, and a 20 deg x 20 deg x 1 time step cube (coads: one month; sst: its whole 1 deg extent, one day),
cold (chunk cache empty, a new registry) and warm (repeated: the decoded-chunk cache and, for NetCDF, the
remote block cache serve it; the "s3 blocks" and "s3 no cache" rows turn the decoded-chunk cache off to show
the block cache alone, and neither). moto is slower than a real object store per request and has no network
latency, so read the ratios, not the absolute numbers.

    python benchmarks/remote.py --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = {  # id: (file, point, cube query)
    "sst": ("analysed_sst.zarr", "POINT(-27.5 40.5)", "bbox=-28,40,-27,41&datetime=2005-12-02T09:00:00Z"),
    "coads": ("coads_sst.nc", "POINT(-30 10)", "bbox=-40,0,-20,20&datetime=2000-01-16T06:00:00Z"),
}


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    import logging

    logging.disable(logging.WARNING)
    import s3fs
    from fastapi.testclient import TestClient
    from moto.server import ThreadedMotoServer

    from cubeserver.app import create_app
    from cubeserver.config import config_from_dict
    from cubeserver.registry import Registry
    from cubeserver.sources.chunk_cache import CACHE
    from tests.conftest import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    options = {"key": "k", "secret": "s", "endpoint_url": f"http://127.0.0.1:{port}"}
    fs = s3fs.S3FileSystem(**options)
    fs.mkdir("bench")
    data = ROOT / "datasets"
    for name, _, _ in CASES.values():
        fs.put(str(data / name), f"bench/{name}", recursive=(data / name).is_dir())
    tmp = Path(tempfile.mkdtemp())
    print(f"{'case':<18} {'open ms':>8} {'series cold':>12} {'series warm':>12} {'cube cold':>10} {'cube warm':>10}")
    try:
        for cid, (name, point, cube) in CASES.items():
            s3 = {"path": f"s3://bench/{name}", "storage_options": options}
            variants = [("local", {"path": str(data / name)}, {}), ("s3", s3, {})]
            if name.endswith(".nc"):  # the remote block cache alone (no decoded-chunk cache), on and off
                variants += [("s3 blocks", s3, {"limits": {"chunk_cache_bytes": 0}}),
                             ("s3 no cache", s3, {"limits": {"chunk_cache_bytes": 0}, "remote": {"block_cache_bytes": 0}})]
            for where, cc, server_keys in variants:
                raw = {"state_dir": str(tmp / "state"), "collections": {cid: cc}, **server_keys}
                config = config_from_dict(raw, tmp)
                open_ms = median_ms(lambda: Registry(config).close(), args.repeat)
                row = [f"{cid + '/' + where:<18}", f"{open_ms:8.1f}"]
                for q in (f"position?coords={point}", f"cube?{cube}"):
                    url = f"/collections/{cid}/{q}&f=CoverageJSON"
                    cold = []
                    for _ in range(args.repeat):
                        CACHE.clear()
                        with TestClient(create_app(config)) as c:
                            t = time.perf_counter()
                            r = c.get(url)
                            assert r.status_code == 200, (url, r.text[:300])
                            cold.append((time.perf_counter() - t) * 1000)
                    with TestClient(create_app(config)) as c:
                        c.get(url)
                        warm = median_ms(lambda: c.get(url), args.repeat)
                    row += [f"{statistics.median(cold):12.1f}", f"{warm:12.1f}"]
                print(" ".join(row))
    finally:
        fs.clear_instance_cache()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
