"""Access control (issue 13, point 1): API keys and OIDC JWTs, protected areas (401/403),
private collections hidden everywhere (404, not 403), and the open default."""

from __future__ import annotations

import logging

import pytest
import xarray as xr

from tests.auth.conftest import COLLECTIONS
from tests.conftest import client_for, serve_in_thread

ALICE, BOB, ADMIN = "alice-key-7f3e", "bob-key-91c2", "admin-key-0aa1"
EXECUTE = "/processes/echo/execution"
BODY = {"inputs": {"message": "hi"}}


def auth_section(issuer=None, **extra) -> dict:
    section = {"api_keys": [{"name": "alice", "key": ALICE, "roles": ["analyst"]},
                            {"name": "bob", "key_env": "CUBESERVER_TEST_BOB_KEY", "roles": []},
                            {"name": "root", "key_file": "admin.key", "roles": ["admin"]}], **extra}
    if issuer is not None:
        section["oidc"] = {"issuer": issuer.url, "audience": "cubeserver", "roles_claim": "realm_access.roles",
                           "jwks_refresh_cooldown_s": 0}
    return section


@pytest.fixture()
def secured(tmp_path, issuer, monkeypatch):
    monkeypatch.setenv("CUBESERVER_TEST_BOB_KEY", BOB)
    (tmp_path / "admin.key").write_text(ADMIN + "\n")
    with client_for(COLLECTIONS, tmp_path, auth=auth_section(issuer)) as c:
        yield c


def h(key):
    return {"Authorization": f"Bearer {key}"}


def test_without_auth_section_everything_is_open_and_it_says_so(tmp_path, caplog):
    open_collections = {k: v for k, v in COLLECTIONS.items() if "access" not in v}
    with caplog.at_level(logging.WARNING, logger="cubeserver.auth"):
        with client_for(open_collections, tmp_path) as c:
            assert c.post(EXECUTE, json=BODY).status_code == 200
            assert c.get("/jobs").status_code == 200
    assert any("no auth section" in r.getMessage() for r in caplog.records)


def test_private_collection_without_auth_section_is_a_config_error(tmp_path):
    from cubeserver.config import config_from_dict

    with pytest.raises(Exception, match="secret-sst.*auth"):
        config_from_dict({"collections": COLLECTIONS}, tmp_path)


def test_data_and_metadata_stay_open(secured):
    assert secured.get("/collections/coads/position?coords=POINT(-30 10)").status_code == 200
    assert secured.get("/processes").status_code == 200
    assert secured.get("/conformance").status_code == 200


def test_execute_needs_an_identity_401_with_challenge(secured):
    r = secured.post(EXECUTE, json=BODY)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith('Bearer realm="cubeserver"')
    assert r.json()["code"] == "Unauthorized"
    assert secured.get("/jobs").status_code == 401


@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {ALICE}"}, {"X-API-Key": ALICE},
                                     {"Authorization": f"Bearer {BOB}"}, {"X-API-Key": ADMIN}])
def test_api_keys_literal_env_and_file(secured, headers):
    assert secured.post(EXECUTE, json=BODY, headers=headers).status_code == 200


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer wrong"}, {"X-API-Key": ALICE + "x"},
                                     {"Authorization": f"Basic {ALICE}"}])
def test_invalid_credentials_are_401_even_on_open_paths(secured, headers):
    for url in ("/collections", "/jobs"):
        r = secured.get(url, headers=headers)
        assert r.status_code == 401, (url, headers)
        assert ALICE not in r.text


def test_oidc_token_from_the_issuers_jwks(secured, issuer):
    r = secured.post(EXECUTE, json=BODY, headers=h(issuer.token(sub="carol", roles=["analyst"])))
    assert r.status_code == 200, r.text
    assert issuer.hits["discovery"] >= 1 and issuer.hits["jwks"] >= 1


@pytest.mark.parametrize("bad", ["expired", "audience", "issuer", "signature"])
def test_oidc_bad_tokens_are_401(secured, issuer, bad):
    from cryptography.hazmat.primitives.asymmetric import rsa

    token = {
        "expired": lambda: issuer.token(exp_in=-3600),
        "audience": lambda: issuer.token(aud="someone-else"),
        "issuer": lambda: issuer.token(iss="https://evil.example"),
        "signature": lambda: issuer.token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    }[bad]()
    r = secured.post(EXECUTE, json=BODY, headers=h(token))
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


def test_oidc_key_rotation_is_followed(secured, issuer):
    assert secured.get("/jobs", headers=h(issuer.token())).status_code == 200
    issuer.rotate("k2")  # a new kid: the server refetches the JWKS
    assert secured.get("/jobs", headers=h(issuer.token())).status_code == 200


def test_roles_per_area_give_403(tmp_path, issuer):
    section = auth_section(issuer, protect={"processes": ["analyst"], "jobs": []})
    with client_for(COLLECTIONS, tmp_path, auth=section) as c:
        assert c.post(EXECUTE, json=BODY, headers={"X-API-Key": ALICE}).status_code == 200
        r = c.post(EXECUTE, json=BODY, headers=h(issuer.token(sub="dave", roles=["viewer"])))
        assert r.status_code == 403 and "analyst" in r.json()["detail"]
        assert c.get("/jobs", headers=h(issuer.token(sub="dave", roles=["viewer"]))).status_code == 200


def test_protecting_data_closes_collections(tmp_path):
    with client_for(COLLECTIONS, tmp_path, auth={**auth_section(), "protect": ["data"]}) as c:
        assert c.get("/collections").status_code == 401
        assert c.get("/collections", headers={"X-API-Key": ALICE}).status_code == 200
        assert c.post(EXECUTE, json=BODY).status_code == 200  # processes not listed: open


def ids(client, headers=None):
    return {c["id"] for c in client.get("/collections", headers=headers).json()["collections"]}


def test_private_collection_hidden_from_others_everywhere(secured, issuer):
    assert "secret-sst" not in ids(secured)
    assert "secret-sst" not in ids(secured, {"X-API-Key": BOB})  # valid identity, not the role
    assert "secret-sst" in ids(secured, {"X-API-Key": ALICE})
    assert "secret-sst" in ids(secured, h(issuer.token(roles=["analyst"])))
    for url in ("/collections/secret-sst", "/collections/secret-sst/position?coords=POINT(-30 10)",
                "/collections/secret-sst/coverage?f=netcdf", "/collections/secret-sst/zarr/.zmetadata",
                "/collections/secret-sst?f=html"):
        anonymous = secured.get(url)
        assert anonymous.status_code == 404, url
        assert anonymous.text.replace("secret-sst", "") == secured.get(url.replace("secret-sst", "nope-nope")).text \
            .replace("nope-nope", ""), "a 404 must not tell a private collection from a missing one"
        assert secured.get(url, headers={"X-API-Key": ALICE}).status_code == 200, url
    html = secured.get("/collections", headers={"Accept": "text/html"}).text
    assert "secret-sst" not in html and "embargoed" not in html
    # a process cannot read it either
    r = secured.post("/processes/temporal-aggregate/execution", headers={"X-API-Key": BOB},
                     json={"inputs": {"collection": "secret-sst", "variables": "SST", "grouping": "year"}})
    assert r.status_code in (400, 404) and "secret-sst" in r.text


def test_private_collection_over_real_http_with_xarray(secured, issuer):
    with serve_in_thread(secured.app) as base:
        import fsspec

        mapper = fsspec.get_mapper(f"{base}/collections/secret-sst/zarr",
                                   client_kwargs={"headers": {"X-API-Key": ALICE}})
        ds = xr.open_zarr(mapper, consolidated=True)
        assert "SST" in ds
        with pytest.raises(Exception):
            xr.open_zarr(fsspec.get_mapper(f"{base}/collections/secret-sst/zarr"), consolidated=True)


def test_openapi_declares_the_security_schemes(secured):
    spec = secured.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer" and schemes["apiKey"]["name"] == "X-API-Key"
    assert schemes["oidc"]["openIdConnectUrl"].endswith("/.well-known/openid-configuration")
    execute = spec["paths"]["/processes/{processId}/execution"]["post"]
    assert execute["security"] and {"401", "403", "429", "503"} <= set(execute["responses"])
    assert {"401", "403"} <= set(spec["paths"]["/jobs"]["get"]["responses"])
    assert {"429", "503"} <= set(spec["paths"]["/collections/coads/position"]["get"]["responses"])
    assert "security" not in spec["paths"]["/collections"]["get"]


def test_execute_rate_limit_per_identity_429_with_retry_after(tmp_path):
    (tmp_path / "admin.key").write_text(ADMIN)
    with client_for(COLLECTIONS, tmp_path, auth=auth_section(), limits={"execute_rate": "3/minute"}) as c:
        alice = {"X-API-Key": ALICE}
        assert [c.post(EXECUTE, json=BODY, headers=alice).status_code for _ in range(3)] == [200] * 3
        r = c.post(EXECUTE, json=BODY, headers=alice)
        assert r.status_code == 429 and 0 < int(r.headers["retry-after"]) <= 60
        assert r.json()["code"] == "TooManyRequests" and "3 per 1 minute" in r.json()["detail"]
        assert c.post(EXECUTE, json=BODY, headers={"X-API-Key": ADMIN}).status_code == 200  # others are not slowed


def test_data_rate_limit_counts_queries_not_metadata_or_zarr(tmp_path):
    coads = {"coads": COLLECTIONS["coads"]}
    with client_for(coads, tmp_path, limits={"data_rate": "2/minute"}) as c:
        q = "/collections/coads/position?coords=POINT(-30 10)"
        assert [c.get(q).status_code for _ in range(2)] == [200, 200]
        assert c.get(q).status_code == 429
        assert c.get("/collections/coads").status_code == 200
        assert c.get("/collections/coads/zarr/.zmetadata").status_code == 200


def test_bad_rate_is_a_config_error(tmp_path):
    from cubeserver.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match="limits.execute_rate"):
        config_from_dict({"collections": {}, "limits": {"execute_rate": "lots"}}, tmp_path)


def wait_done(client, href, headers):
    import time

    for _ in range(300):
        doc = client.get(href, headers=headers).json()
        if doc["status"] in ("successful", "failed", "dismissed"):
            return doc
        time.sleep(0.05)
    raise AssertionError(f"job {href} did not finish")


def test_jobs_belong_to_their_submitter(secured):
    alice, bob, admin = {"X-API-Key": ALICE}, {"X-API-Key": BOB}, {"X-API-Key": ADMIN}
    r = secured.post("/processes/coarsen/execution", headers={**alice, "Prefer": "respond-async"},
                     json={"inputs": {"collection": "coads", "variables": "SST", "factors": {"x": 2}}})
    assert r.status_code == 201, r.text
    href = r.headers["location"]
    job_id = href.rsplit("/", 1)[1]
    assert wait_done(secured, href, alice)["status"] == "successful"
    cid = f"job-{job_id}"
    # the submitter and an admin see the job, its results and its collection
    for who in (alice, admin):
        assert secured.get(href, headers=who).status_code == 200
        assert job_id in {j["jobID"] for j in secured.get("/jobs?limit=100", headers=who).json()["jobs"]}
        assert secured.get(f"/collections/{cid}", headers=who).status_code == 200
    assert cid in ids(secured, alice)
    # anyone else: as if it did not exist
    for url in (href, href + "/results", f"/collections/{cid}", f"/collections/{cid}/position?coords=POINT(-30 10)"):
        assert secured.get(url, headers=bob).status_code == 404, url
    assert job_id not in {j["jobID"] for j in secured.get("/jobs?limit=100", headers=bob).json()["jobs"]}
    assert cid not in ids(secured, bob) and cid not in ids(secured)
    assert secured.delete(href, headers=bob).status_code == 404
    assert secured.get(href, headers=alice).json()["status"] == "successful"  # bob's DELETE did nothing
    assert secured.delete(href, headers=alice).status_code == 200


def test_job_caps_per_identity_and_in_total(tmp_path):
    from cubeserver.processes.store import Job

    with client_for(COLLECTIONS, tmp_path, auth=auth_section(),
                    limits={"max_jobs_per_identity": 2, "max_jobs": 2, "execute_rate": None}) as c:
        jobs = c.app.state.ctx.services["jobs"]
        jobs.start()
        for i in range(2):  # two running jobs of alice's, as a busy server would hold them (real store rows)
            jobs.store.create(Job(id=f"alice{i}", process_id="echo", status="running", owner=jobs.owner,
                                  submitter="alice"))
        r = c.post(EXECUTE, json=BODY, headers={"X-API-Key": ALICE})
        assert r.status_code == 429 and r.headers["retry-after"] and r.json()["code"] == "TooManyJobs"
        jobs.store.create(Job(id="other0", process_id="echo", status="accepted", owner=jobs.owner, submitter="x"))
        r = c.post(EXECUTE, json=BODY, headers={"X-API-Key": "bob-not-configured"})
        assert r.status_code == 401
        jobs.store.update("alice0", status="successful")
        ok = c.post(EXECUTE, json=BODY, headers={"X-API-Key": ALICE})  # alice has 1 active, the server 2: busy
        assert ok.status_code == 503 and ok.json()["code"] == "ServerBusy"
        jobs.store.update("other0", status="failed")
        assert c.post(EXECUTE, json=BODY, headers={"X-API-Key": ALICE}).status_code == 200


def test_access_log_names_the_identity(secured, caplog):
    with caplog.at_level(logging.INFO, logger="cubeserver.access"):
        secured.get("/jobs", headers={"X-API-Key": ALICE})
    assert any(line.getMessage().startswith("GET /jobs 200 alice ") for line in caplog.records), \
        [r.getMessage() for r in caplog.records]


def test_private_collections_are_not_named_in_openapi_or_metrics(tmp_path):
    hidden = {**COLLECTIONS, "hidden-places": {**COLLECTIONS["places"], "access": {"roles": ["analyst"]}}}
    with client_for(hidden, tmp_path, auth=auth_section()) as c:
        assert c.get("/collections/hidden-places/items?limit=1", headers={"X-API-Key": ALICE}).status_code == 200
        assert c.get("/collections/secret-sst/position?coords=POINT(-30 10)", headers={"X-API-Key": ALICE}).status_code == 200
        doc = c.get("/openapi.json").text
        assert "hidden-places" not in doc and "secret-sst" not in doc
        assert "/collections/places/items" in doc and "/collections/coads/position" in doc  # public ones are
        metrics = c.get("/metrics").text
        assert "hidden-places" not in metrics and "secret-sst" not in metrics
