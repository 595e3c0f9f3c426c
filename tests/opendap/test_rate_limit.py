"""`limits.data_rate` counts OPeNDAP data answers like EDR queries; DAP metadata is not counted."""

from __future__ import annotations

from tests.auth.conftest import COLLECTIONS
from tests.conftest import client_for


def test_data_rate_counts_opendap_data_not_metadata(tmp_path):
    coads = {"coads": COLLECTIONS["coads"]}
    with client_for(coads, tmp_path, limits={"data_rate": "3/minute"}) as c:
        for path in ("opendap.dds", "opendap.das", "opendap.dmr"):
            assert c.get(f"/collections/coads/{path}").status_code == 200, path
        data = ["opendap.dods?SST[0][0][0]", "opendap.dap?dap4.ce=/SST[0][0][0]", "opendap.ascii?SST[0][0][0]"]
        assert [c.get(f"/collections/coads/{p}").status_code for p in data] == [200, 200, 200]
        r = c.get("/collections/coads/opendap.dods?SST[0][0][0]")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert c.get("/collections/coads/opendap.dds").status_code == 200  # metadata still answered
