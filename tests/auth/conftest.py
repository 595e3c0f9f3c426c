"""A real OpenID Connect issuer for the auth tests: discovery document and JWKS served over HTTP
from a thread, RSA keys made with `cryptography`, tokens signed with PyJWT."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import DATASETS


class Issuer:
    """An identity provider: `token(...)` mints a JWT signed with its current key."""

    def __init__(self):
        self.keys = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        self.kid = "k1"
        self.hits = {"discovery": 0, "jwks": 0}
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path == "/.well-known/openid-configuration":
                    issuer.hits["discovery"] += 1
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks"}
                elif self.path == "/jwks":
                    issuer.hits["jwks"] += 1
                    body = {"keys": [issuer.jwk(kid) for kid in issuer.keys]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def jwk(self, kid: str) -> dict:
        doc = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.keys[kid].public_key()))
        return {**doc, "kid": kid, "use": "sig", "alg": "RS256"}

    def rotate(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid

    def token(self, sub="alice", roles=("analyst",), aud="cubeserver", exp_in=300, iss=None, key=None, **claims):
        now = int(time.time())
        payload = {"iss": iss or self.url, "sub": sub, "aud": aud, "iat": now, "exp": now + exp_in,
                   "preferred_username": sub, "realm_access": {"roles": list(roles)}, **claims}
        return jwt.encode(payload, key or self.keys[self.kid], algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture(scope="module")
def issuer():
    iss = Issuer()
    yield iss
    iss.server.shutdown()


COLLECTIONS = {
    "coads": {"path": str(DATASETS / "coads_sst.nc")},
    "secret-sst": {"path": str(DATASETS / "coads_sst.nc"), "title": "embargoed run", "access": {"roles": ["analyst"]}},
    "places": {"path": str(DATASETS / "ne_110m_populated_places_simple.geojson")},
}
