"""Enterprise-Managed Authorization end to end: the bundled IdP, the lesson's authorization server, its MCP server.

For the module: the IdP (`python -m 03-oauth-mcp.enterprise.idp`), an authorization server that
trusts it and a stand-in IdP (`--trusted-idp`, twice), and the MCP server. The authorization and MCP
servers run their own commands on threads of the test process, each on a real port
(support/in_process_auth_server.py, in_process_server.py): what they answer is the subject, not their
processes. The IdP is a process. The client runs its own
command in this process (support/in_process_client.py), signing a user in at the IdP through the
"browser", or starting from an ID token it holds; a command line it refuses is a process of its
own. The attacks are ID-JAGs sent to the real /token: honest ones from the real IdP (replayed, or
presented by another client), and forged ones from the stand-in, each honest but for the one thing
the attack changes; an untrusted stand-in signs too.
"""

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from lesson03.tests.support import issuer, processes
from lesson03.tests.support.client_runs import ClientRun
from lesson03.tests.support.in_process_auth_server import auth_server_in_thread
from lesson03.tests.support.in_process_client import run_with_user
from lesson03.tests.support.in_process_server import ServerInThread, mcp_server_in_thread
from lesson03.tests.support.signed_assertions import (
    JWT_BEARER,
    client_assertion,
    exchange_at_idp,
    id_jag,
    redeem,
    sign_in_at_idp,
)

IDP_APP = ("journal-desktop", "dev-idp-client-secret")  # the application at the IdP (enterprise/idp/directory.py)
ENTERPRISE_CLIENT = ("journal-enterprise-client", "dev-enterprise-client-secret")  # the same application at the AS
SECRETS = {"IDP_CLIENT_SECRET": IDP_APP[1], "MCP_CLIENT_SECRET": ENTERPRISE_CLIENT[1]}


@dataclass
class Company:
    idp: "processes.RunningServer"
    auth: ServerInThread
    mcp: ServerInThread
    trusted: "issuer.TestIssuer"  # a stand-in IdP the authorization server trusts: it mints what a test needs
    untrusted: "issuer.TestIssuer"  # one it does not

    @property
    def issuer(self) -> str:
        return self.auth.base_url

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    def forged(self, idp: "issuer.TestIssuer | None" = None, **claims) -> str:
        """An ID-JAG for alice and the enterprise client, from a stand-in IdP, with `claims` changed."""
        return id_jag(idp or self.trusted, self.issuer, self.mcp.mcp_url, ENTERPRISE_CLIENT[0], **claims)

    def real_id_jag(self, user: tuple[str, str] = ("alice", "wonderland")) -> str:
        """An ID-JAG from the bundled IdP, as the client gets it: sign in, then exchange."""
        id_token = sign_in_at_idp(self.idp.base_url, IDP_APP, user)
        answer = exchange_at_idp(self.idp.base_url, id_token, self.issuer, self.mcp.mcp_url, IDP_APP)
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    def command(self, *args: str) -> list[str]:
        """`python -m 03-oauth-mcp.enterprise.client`'s arguments for this company, as an attendee gives them."""
        command = ["--idp", self.idp.base_url, "--issuer", self.issuer, "--url", self.mcp.mcp_url]
        return [*command, "--no-browser", "--verbose", "--callback-port", str(processes.free_port()), *args]

    def client(self, *args: str, env: dict[str, str] | None = None, user=("alice", "wonderland")) -> ClientRun:
        """The enterprise client's command, run in this process (support/in_process_client.py), its user
        signing in whenever it is asked to."""
        return run_with_user("enterprise.client", self.command(*args), user=user, env={**SECRETS, **(env or {})})


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Iterator[Company]:
    state = tmp_path_factory.mktemp("enterprise")
    idp_port, auth_port, mcp_port = (processes.free_port() for _ in range(3))
    idp_url, issuer_url = f"http://127.0.0.1:{idp_port}", f"http://127.0.0.1:{auth_port}"
    mcp_url = f"http://127.0.0.1:{mcp_port}/mcp"
    connection = ["--audience", issuer_url, "--resource", mcp_url]  # the IdP administrator's, for this application
    with (
        issuer.serve_test_issuer() as trusted,
        issuer.serve_test_issuer() as untrusted,
        processes.start_process("enterprise.idp", *connection, port=idp_port) as idp,
        auth_server_in_thread(
            *("--db", str(state / "auth.db"), "--resource", mcp_url),
            *("--trusted-idp", f"{idp_url}={idp_url}/jwks.json", "--trusted-idp", f"{trusted.url}={trusted.url}/keys"),
            port=auth_port,
        ) as auth,
        mcp_server_in_thread("--transport", "http", "--issuer", issuer_url, port=mcp_port) as mcp,
    ):
        yield Company(idp, auth, mcp, trusted, untrusted)


def structured(run: ClientRun) -> dict:
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.split("structured: ")[1])


def test_both_servers_say_what_they_do(company: Company) -> None:
    metadata = httpx2.get(f"{company.issuer}/.well-known/oauth-authorization-server").json()
    assert JWT_BEARER in metadata["grant_types_supported"]
    assert metadata["authorization_grant_profiles_supported"] == ["urn:ietf:params:oauth:grant-profile:id-jag"]
    idp = httpx2.get(f"{company.idp.base_url}/.well-known/openid-configuration").json()
    assert idp["identity_chaining_requested_token_types_supported"] == ["urn:ietf:params:oauth:token-type:id-jag"]


def test_alice_signs_in_at_the_idp_once_and_the_mcp_server_knows_her(company: Company) -> None:
    run = company.client("call", "whoami")
    assert structured(run) | {"expires_at": 0} == {
        "subject": "alice",
        "client_id": "journal-enterprise-client",
        "scopes": ["journal:read", "journal:write"],  # the IdP's policy for alice, within what the client may have
        "expires_at": 0,
    }
    assert len(run.consents) == 1 and "[idp] signed in at the identity provider as alice" in run.stderr
    assert f"grant_type={JWT_BEARER}" in run.stderr
    # No ID token, ID-JAG or access token is ever printed whole: only "eyJ0****".
    assert not re.search(r"eyJ[\w-]{8,}", run.stdout + run.stderr)


def test_a_client_holding_an_id_token_goes_straight_to_the_exchange(company: Company) -> None:
    id_token = sign_in_at_idp(company.idp.base_url, IDP_APP, ("bob", "builder"))
    token_endpoint, held = f"{company.idp.base_url}/token", {"MCP_ID_TOKEN": id_token}
    run = company.client("--idp-token-endpoint", token_endpoint, "call", "whoami", env=held)
    assert not run.consents  # no sign-in
    assert structured(run)["subject"] == "bob"
    assert structured(run)["scopes"] == ["journal:read"]  # what the IdP's administrator grants bob
    # An ID token is handed to the IdP that issued it, never to a token endpoint somewhere else.
    elsewhere = processes.run_cli(  # a usage error: the process's exit code and message
        "enterprise.client",
        *company.command("--idp-token-endpoint", "http://127.0.0.2:1/token", "tools"),
        env={**SECRETS, "MCP_ID_TOKEN": id_token},
    )
    assert elsewhere.returncode == 2 and "not on its issuer's origin" in elsewhere.stderr


def test_an_honest_forgery_is_accepted_so_each_refusal_below_is_for_its_one_change(company: Company) -> None:
    answer = redeem(company.token_endpoint, company.forged(), ENTERPRISE_CLIENT)
    assert answer.status_code == 200, answer.text
    assert "refresh_token" not in answer.json()  # the next token takes a new ID-JAG


@pytest.mark.parametrize(
    ("attack", "change"),
    [
        ("signed by an IdP that is not trusted", {"idp": "untrusted"}),
        ("a trusted IdP's name, another key", {"key": ec.generate_private_key(ec.SECP256R1())}),
        ("for another authorization server", {"aud": "http://127.0.0.1:1"}),
        ("for two audiences", {"aud": ["AUDIENCE", "http://127.0.0.1:1"]}),
        ("for another resource", {"resource": "http://127.0.0.1:1/mcp"}),
        ("for no resource", {"resource": issuer.OMIT}),
        ("expired", {"exp": int(time.time()) - 120}),
        ("alive for an hour", {"exp": int(time.time()) + 3600}),
        ("issued to another client", {"client_id": "someone-else"}),
        ("an ID token (typ JWT), every claim an ID-JAG's", {"header": {"typ": "JWT"}}),
        ("for a user this server does not know", {"sub": "carol"}),
    ],
)
def test_a_forged_or_misdirected_id_jag_is_invalid_grant(company: Company, attack: str, change: dict) -> None:
    idp = company.untrusted if change.pop("idp", None) else None
    if change.get("aud") and isinstance(change["aud"], list):
        change["aud"] = [company.issuer if audience == "AUDIENCE" else audience for audience in change["aud"]]
    if "sub" in change:
        change["subject"] = change.pop("sub")
    answer = redeem(company.token_endpoint, company.forged(idp, **change), ENTERPRISE_CLIENT)
    assert answer.status_code == 400, (attack, answer.text)
    assert answer.json()["error"] == "invalid_grant", (attack, answer.text)


def test_an_id_jag_whose_header_holds_the_wrong_types_is_invalid_grant_never_a_500(company: Company) -> None:
    # joserfc raised TypeError for `crit: 5` (a 500); a kid that is a list was looked up in a set.
    for fields in ({"kid": ["test-key-1"]}, {"crit": 5}, {"kid": {"a": 1}, "crit": ["x"]}):
        answer = redeem(
            company.token_endpoint, company.trusted.with_header(company.forged(), **fields), ENTERPRISE_CLIENT
        )
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant", (fields, answer.text)


def test_an_id_jag_from_the_idp_is_redeemed_once(company: Company) -> None:
    assertion = company.real_id_jag()
    assert redeem(company.token_endpoint, assertion, ENTERPRISE_CLIENT).status_code == 200
    replayed = redeem(company.token_endpoint, assertion, ENTERPRISE_CLIENT)
    assert replayed.json()["error"] == "invalid_grant" and "used already" in replayed.json()["error_description"]


def test_an_id_token_from_the_idp_is_not_an_id_jag_and_a_client_must_authenticate(company: Company) -> None:
    id_token = sign_in_at_idp(company.idp.base_url, IDP_APP)
    assert redeem(company.token_endpoint, id_token, ENTERPRISE_CLIENT).json()["error"] == "invalid_grant"
    anonymous = redeem(company.token_endpoint, company.forged(), None, client_id=ENTERPRISE_CLIENT[0])
    assert anonymous.json()["error"] == "invalid_client"


def test_the_idp_exchanges_only_for_its_authenticated_application_and_connected_servers(company: Company) -> None:
    idp = company.idp.base_url
    id_token = sign_in_at_idp(idp, IDP_APP)
    # ext-auth §7.7: without the application's secret, a stolen ID token buys nothing.
    anonymous = exchange_at_idp(idp, id_token, company.issuer, company.mcp.mcp_url, None, client_id=IDP_APP[0])
    assert anonymous.json()["error"] == "invalid_client"
    elsewhere = exchange_at_idp(idp, id_token, "http://127.0.0.1:1", company.mcp.mcp_url, IDP_APP)
    assert elsewhere.json()["error"] == "invalid_target"
    other_resource = exchange_at_idp(idp, id_token, company.issuer, "http://127.0.0.1:1/mcp", IDP_APP)
    assert other_resource.json()["error"] == "invalid_target"
    an_id_jag = exchange_at_idp(idp, company.real_id_jag(), company.issuer, company.mcp.mcp_url, IDP_APP)
    assert an_id_jag.json()["error"] == "invalid_grant"


def test_a_client_registered_with_its_key_redeems_only_id_jags_issued_to_it(company: Company) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwks = {"keys": [json.loads(ECAlgorithm.to_jwk(key.public_key()))]}
    metadata = {"client_name": "Keyed", "grant_types": [JWT_BEARER], "token_endpoint_auth_method": "private_key_jwt"}
    registered = httpx2.post(f"{company.issuer}/register", json={**metadata, "jwks": jwks})
    assert registered.status_code == 201, registered.text
    client_id = registered.json()["client_id"]
    assert "client_secret" not in registered.json()

    def signed(assertion: str) -> httpx2.Response:
        proof = {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
        proof["client_assertion"] = client_assertion(client_id, company.issuer, key)
        return redeem(company.token_endpoint, assertion, None, **proof)

    # An ID-JAG issued to journal-enterprise-client is no use to another client, even an authenticated one.
    assert signed(company.real_id_jag()).json()["error"] == "invalid_grant"
    own = id_jag(company.trusted, company.issuer, company.mcp.mcp_url, client_id)
    assert signed(own).status_code == 200


# The 1024-bit key is the attack: joserfc warns as the server reads it (in its process, to its stderr).
@pytest.mark.filterwarnings("ignore:Key size should be >= 2048 bits")
def test_registration_takes_only_public_signing_keys_of_a_known_kind(company: Company) -> None:
    def jwk(private_key, algorithm) -> dict:
        return json.loads(algorithm.to_jwk(private_key.public_key()))

    p256 = jwk(ec.generate_private_key(ec.SECP256R1()), ECAlgorithm)
    weak_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 -- the attack
    cases = {
        "a private key": {"keys": [json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1())))]},
        "not a key set": {"keys": 5},
        "a P-384 key": {"keys": [jwk(ec.generate_private_key(ec.SECP384R1()), ECAlgorithm)]},
        "a 1024-bit RSA key": {"keys": [jwk(weak_rsa, RSAAlgorithm)]},
        "six keys": {"keys": [{**p256, "kid": str(n)} for n in range(6)]},
        "two keys, no kid": {"keys": [p256, p256]},
    }
    metadata = {"grant_types": [JWT_BEARER], "token_endpoint_auth_method": "private_key_jwt"}
    for case, jwks in cases.items():
        answer = httpx2.post(f"{company.issuer}/register", json={**metadata, "jwks": jwks})
        assert answer.status_code == 400, (case, answer.text)
        assert answer.json()["error"] == "invalid_client_metadata", (case, answer.text)
    both = httpx2.post(
        f"{company.issuer}/register", json={**metadata, "jwks": {"keys": [p256]}, "jwks_uri": "https://a.example/k"}
    )
    assert both.status_code == 400
    assert "/register" in company.auth.logged() and "Traceback" not in company.auth.logged()


# JSON as a hostile registrant writes a key set: every type where another belongs, nesting, near-misses.
hostile = st.recursive(
    # No NaN or infinity: JSON has neither, and the test's HTTP client refuses to send them.
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8,
)
jwk_members = st.sampled_from(["kty", "crv", "x", "y", "n", "e", "kid", "use", "alg", "d", "k", "key_ops"])
jwk_values = hostile | st.sampled_from(["EC", "RSA", "OKP", "oct", "P-256", "P-384", "AQAB", "AA", "sig", "ES256"])
key_sets = hostile | st.fixed_dictionaries(
    {"keys": hostile | st.lists(st.dictionaries(jwk_members, jwk_values, max_size=8), max_size=7)}
)


def test_hostile_key_sets_at_registration_are_invalid_client_metadata_never_a_5xx(company: Company) -> None:
    # One parser (auth_server/optional/client_keys.py) reads registered keys, fetched jwks_uri and IdP key sets alike.
    metadata = {"grant_types": [JWT_BEARER], "token_endpoint_auth_method": "private_key_jwt"}
    with httpx2.Client(timeout=10, transport=httpx2.HTTPTransport(local_address="127.0.0.4")) as http:

        @settings(max_examples=150, deadline=None, database=None, derandomize=True)
        @given(jwks=key_sets)
        def refused_or_registered(jwks: object) -> None:
            answer = http.post(f"{company.issuer}/register", json={**metadata, "jwks": jwks})
            assert answer.status_code in (201, 400, 429), (jwks, answer.status_code, answer.text[:300])

        refused_or_registered()
    assert "Traceback" not in company.auth.logged()
