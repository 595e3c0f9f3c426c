"""Operations (issue 13, point 6): /health, /ready, /metrics, security headers, trusted hosts,
CORS split between reads and writes, and the access log line."""

from __future__ import annotations

import logging
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import DATASETS, client_for

COADS = {"coads": {"path": str(DATASETS / "coads_sst.nc")}}
POSITION = "/collections/coads/position?coords=POINT(-30 10)&parameter-name=SST"


def samples(client) -> dict:
    """{(metric sample name, frozenset(labels)): value} from a real scrape of /metrics."""
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


@pytest.fixture()
def fresh(tmp_path):
    with client_for(COADS, tmp_path) as c:
        yield c


def test_health_is_cheap_and_passes(fresh):
    r = fresh.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "pass"}
    for url in ("/health", "/ready", "/metrics"):  # a proxy must never answer a probe from its cache
        assert fresh.get(url).headers["cache-control"] == "no-store"
    assert r.headers["content-type"].startswith("application/health+json")


@pytest.mark.parametrize("url", ["/health", "/ready"])
@pytest.mark.parametrize("accept, f, media", [
    ("application/health+json", None, "application/health+json"),
    ("application/json", None, "application/health+json"),
    ("text/html,application/xhtml+xml,*/*;q=0.8", None, "text/html"),
    ("text/plain", None, "text/plain"),
    ("*/*", None, "application/health+json"),
    ("image/png", "json", "application/health+json"),  # f wins over Accept
    ("image/png", "html", "text/html"),
    (None, "text", "text/plain"),
])
def test_probes_negotiate_like_every_resource(fresh, url, accept, f, media):
    r = fresh.get(url, params={"f": f} if f else None, headers={"Accept": accept} if accept else {})
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == media, r.text
    if media == "application/health+json":
        assert r.json()["status"] == "pass"
    elif media == "text/plain":
        assert r.text.splitlines()[0] == "status: pass"
    else:
        assert "pass" in r.text and r.text.lstrip().lower().startswith("<!doctype html")


@pytest.mark.parametrize("url", ["/health", "/ready", "/metrics"])
def test_probes_and_metrics_refuse_what_they_cannot_serve(fresh, url):
    r = fresh.get(url, headers={"Accept": "image/png"})
    assert r.status_code == 406 and r.json()["parameter"] == "Accept", r.text
    if url != "/metrics":
        r = fresh.get(url, params={"f": "png"})
        assert r.status_code == 400 and r.json()["parameter"] == "f"


def test_metrics_speak_openmetrics_to_prometheus(fresh):
    prom = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
            "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")  # what Prometheus 2.x sends
    r = fresh.get("/metrics", headers={"Accept": prom})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/openmetrics-text")
    assert r.text.rstrip().endswith("# EOF")
    assert fresh.get("/metrics", headers={"Accept": "text/plain"}).status_code == 200


def test_ready_checks_collections_and_job_store(fresh):
    r = fresh.get("/ready")
    assert r.status_code == 200, r.text
    checks = r.json()["checks"]
    assert checks["collections"]["status"] == "pass" and checks["collections"]["observedValue"] == 1
    assert checks["jobs:store"]["status"] == "pass"


def test_ready_is_503_when_the_job_store_is_gone(tmp_path):
    with client_for(COADS, tmp_path) as c:
        jobs = c.app.state.ctx.services["jobs"]
        jobs.store.close()  # a real closed SQLite connection: every query now raises
        r = c.get("/ready")
        jobs._store = None  # the manager reopens its store, so shutdown can mark jobs as usual
        assert r.status_code == 503 and r.headers["retry-after"]
        body = r.json()
        assert body["status"] == "fail" and body["checks"]["jobs:store"]["status"] == "fail"
        assert str(tmp_path) not in r.text  # no server path in the answer
        assert c.get("/health").status_code == 200  # liveness does not depend on the store


def test_metrics_count_requests_by_route_template_and_status(fresh):
    before = samples(fresh)
    ok = [fresh.get(POSITION) for _ in range(3)]
    bad = fresh.get("/collections/coads/position?coords=POINT(1000 10)")
    fresh.get("/no/such/path/123")
    assert all(r.status_code == 200 for r in ok) and bad.status_code == 400
    after = samples(fresh)
    route = "/collections/{collectionId}/position"

    def delta(name, **labels):
        key = (name, frozenset(labels.items()))
        return after.get(key, 0) - before.get(key, 0)

    assert delta("cubeserver_requests_total", method="GET", route=route, status="200") == 3
    assert delta("cubeserver_requests_total", method="GET", route=route, status="400") == 1
    assert delta("cubeserver_requests_total", method="GET", route="unmatched", status="404") == 1
    assert delta("cubeserver_request_duration_seconds_count", method="GET", route=route) == 4
    sent = sum(len(r.content) for r in ok + [bad])  # httpx decodes gzip: the wire bytes are at most this
    assert 0 < delta("cubeserver_response_bytes_total", route=route) <= sent
    # the raw path never becomes a label (series cardinality stays bounded)
    assert not any("POINT" in v for (_, labels) in after for _, v in labels)


def test_metrics_report_jobs_by_status_from_the_store(fresh):
    r = fresh.post("/processes/echo/execution", json={"inputs": {"message": "hi"}},
                   headers={"Prefer": "respond-async"})
    assert r.status_code == 201
    job = r.headers["location"]
    for _ in range(200):
        if fresh.get(job).json()["status"] in ("successful", "failed"):
            break
        time.sleep(0.05)
    listed = fresh.get("/jobs?status=successful").json()
    expected = listed.get("numberMatched", len(listed["jobs"]))
    assert samples(fresh)[("cubeserver_jobs", frozenset({"status": "successful"}.items()))] == expected >= 1


def test_security_headers_on_every_answer_and_csp_on_html(fresh):
    for url in ("/collections", POSITION, "/collections/nope"):
        h = fresh.get(url).headers
        assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "SAMEORIGIN"
        assert "content-security-policy" not in h
    html = fresh.get("/collections", headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    csp = html.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp


def test_configured_csp_replaces_the_default(tmp_path):
    with client_for(COADS, tmp_path, http={"content_security_policy": "default-src 'none'"}) as c:
        assert c.get("/?f=html").headers["content-security-policy"] == "default-src 'none'"


def test_untrusted_host_is_a_400_and_never_reflected(tmp_path):
    with client_for(COADS, tmp_path, http={"trusted_hosts": ["data.example.org", "*.internal.example"]}) as c:
        bad = c.get("/collections", headers={"Host": "evil.example.com"})
        assert bad.status_code == 400 and bad.json()["parameter"] == "Host"
        assert "evil.example.com" not in bad.text
        good = c.get("/collections", headers={"Host": "data.example.org:8080"})
        assert good.status_code == 200
        assert all(link["href"].startswith("http://data.example.org:8080/") for link in good.json()["links"])
        assert c.get("/health", headers={"Host": "node3.internal.example"}).status_code == 200
        assert c.get("/health", headers={"Host": "internal.example.evil.com"}).status_code == 400


def test_cors_open_for_reads_closed_for_writes_by_default(fresh):
    origin = {"Origin": "https://elsewhere.example"}
    get = fresh.get("/collections", headers=origin)
    assert get.headers["access-control-allow-origin"] == "*"
    pre = fresh.options("/processes/echo/execution", headers={**origin, "Access-Control-Request-Method": "POST",
                                                              "Access-Control-Request-Headers": "content-type"})
    assert "access-control-allow-origin" not in pre.headers
    post = fresh.post("/processes/echo/execution", json={"inputs": {"message": "x"}}, headers=origin)
    assert "access-control-allow-origin" not in post.headers


def test_cors_write_origins_allow_execute(tmp_path):
    page = "https://notebook.example"
    with client_for(COADS, tmp_path, http={"cors_write_origins": [page]}) as c:
        pre = c.options("/processes/echo/execution", headers={"Origin": page, "Access-Control-Request-Method": "POST",
                                                              "Access-Control-Request-Headers": "content-type"})
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == page
        assert "POST" in pre.headers["access-control-allow-methods"]
        other = c.options("/jobs/x", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"})
        assert "access-control-allow-origin" not in other.headers


def test_access_log_has_the_query_string(fresh, caplog):
    with caplog.at_level(logging.INFO, logger="cubeserver.access"):
        fresh.get(POSITION)
    lines = [r.getMessage() for r in caplog.records if r.name == "cubeserver.access"]
    assert any("coords=POINT" in line and " 200 - " in line for line in lines), lines  # "-": nobody signed in
