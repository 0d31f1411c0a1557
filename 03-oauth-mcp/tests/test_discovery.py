"""Lesson 03's MCP server against authorization servers shaped like the ones in the wild.

It finds the keys through the issuer's metadata (RFC 8414, then OpenID Connect Discovery),
with the issuer's path where it has one; it believes a metadata document only if it names
`--issuer` exactly; it accepts only the asymmetric algorithms the metadata advertises; and a
failing or lying authorization server is asked again at a bounded rate, not once per request.

What the server asks its issuer and answers its callers is the subject, not its process: each MCP server
runs its command on a thread of the test process, on a real port (support/in_process_server.py).
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager

import httpx2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from lesson03.tests.support import issuer as issuers
from lesson03.tests.support.in_process_server import ServerInThread, mcp_server_in_thread

ACCEPT = {"Accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED_KEY = ed25519.Ed25519PrivateKey.generate()
ES384_KEY = ec.generate_private_key(ec.SECP384R1())


def status(server: ServerInThread, token: str) -> int:
    headers = {**ACCEPT, "Authorization": f"Bearer {token}"}
    return httpx2.post(server.mcp_url, json=INITIALIZE, headers=headers, timeout=10).status_code


def mcp_server_for(issuer_url: str) -> AbstractContextManager[ServerInThread]:
    return mcp_server_in_thread("--transport", "http", "--issuer", issuer_url)


@pytest.fixture(scope="module")
def tenant() -> Iterator["issuers.TestIssuer"]:
    """An issuer with a path, advertising ES256, PS256 and EdDSA (not ES384), with keys for each."""
    advertised = {"id_token_signing_alg_values_supported": ["ES256", "PS256", "EdDSA", "HS256"]}
    with issuers.serve_test_issuer("/tenant1", extra_metadata=advertised) as stand_in:
        stand_in.publish("rsa-pss", RSA_KEY, "PS256")
        stand_in.publish("ed", ED_KEY, "EdDSA")
        stand_in.publish("es384", ES384_KEY, "ES384")
        yield stand_in


@pytest.fixture(scope="module")
def tenant_server(tenant) -> Iterator[ServerInThread]:
    with mcp_server_for(tenant.url) as server:
        yield server


def test_an_issuer_with_a_path_is_found_by_rfc8414_path_insertion(tenant, tenant_server) -> None:
    assert status(tenant_server, tenant.mint(tenant_server.mcp_url)) == 200
    assert tenant.fetched["/.well-known/oauth-authorization-server/tenant1"] >= 1
    assert tenant.fetched["/tenant1/keys"] >= 1  # the jwks_uri the metadata names, not a guess


@pytest.mark.parametrize(
    ("kid", "key", "alg"),
    [("rsa-pss", RSA_KEY, "PS256"), ("ed", ED_KEY, "EdDSA")],
    ids=["PS256", "EdDSA"],
)
def test_advertised_asymmetric_algorithms_are_accepted(tenant, tenant_server, kid, key, alg) -> None:
    token = tenant.mint(tenant_server.mcp_url, key=key, alg=alg, header={"kid": kid})
    assert status(tenant_server, token) == 200


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda tenant, url: tenant.mint(url, key=ES384_KEY, alg="ES384", header={"kid": "es384"}),
            id="not-advertised",
        ),
        pytest.param(lambda tenant, url: tenant.mint(url, key=b"k" * 32, alg="HS256"), id="hmac-though-advertised"),
        pytest.param(
            lambda tenant, url: tenant.mint(url, key=RSA_KEY, alg="RS256", header={"kid": "rsa-pss"}),
            id="key-for-another-algorithm",
        ),
    ],
)
def test_other_algorithms_are_refused(tenant, tenant_server, forge) -> None:
    assert status(tenant_server, forge(tenant, tenant_server.mcp_url)) == 401


def test_metadata_only_at_the_openid_connect_location_is_found() -> None:
    with (
        issuers.serve_test_issuer("/realms/workshop", discovery="openid-configuration") as keycloak_like,
        mcp_server_for(keycloak_like.url) as server,
    ):
        assert status(server, keycloak_like.mint(server.mcp_url)) == 200
        assert keycloak_like.fetched["/realms/workshop/.well-known/openid-configuration"] >= 1


def test_a_document_naming_another_issuer_is_not_believed_and_not_hammered() -> None:
    with (
        issuers.serve_test_issuer("/liar", claimed_issuer="https://trusted.example") as liar,
        mcp_server_for(liar.url) as server,
    ):
        for _ in range(20):
            assert status(server, liar.mint(server.mcp_url)) == 401
        metadata_fetches = sum(count for path, count in liar.fetched.items() if "/.well-known/" in path)
        assert metadata_fetches <= 3  # each discovery URL once in the refetch window, not 20 times each
        assert liar.fetched["/liar/keys"] == 0  # keys from an unbelieved document are never fetched
