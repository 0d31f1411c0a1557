"""`private_key_jwt` both ways: the machine client signs with its key, the authorization server checks the assertion.

One authorization server (and a second replica on its database), one MCP server, for the module.
Machines are registered as an administrator does, with `optional.add_client`: one with a JWK made
by `machine_client.new_key` (ES256), one with an RSA PEM (RS256), one whose keys are at a
`jwks_uri`, one whose `jwks_uri` points where the server must not fetch. Every attack is a request
to the real /token, signed by the test with the machine's real key, except for the one thing the
attack changes. The servers run their own commands on threads of the test process, each on a real
port (support/in_process_auth_server.py, in_process_server.py): what they answer is the subject, not
their processes. The commands (the administrator's, the machine client) run in this process
(support/in_process_client.py), but where a refusal is the subject: a key file the machine client
refuses is a process of its own, its exit code and message.
"""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from joserfc.jwk import ECKey
from jwt.algorithms import RSAAlgorithm

from lesson03.tests.support import client_runs, in_process_client, issuer, processes
from lesson03.tests.support.in_process_auth_server import auth_server_in_thread
from lesson03.tests.support.in_process_server import ServerInThread, mcp_server_in_thread
from lesson03.tests.support.signed_assertions import JWT_BEARER, client_assertion, client_credentials


@dataclass
class Keyed:
    auth: ServerInThread
    replica: ServerInThread  # a second authorization server on the same database
    mcp: ServerInThread
    keys: Path  # the machines' key files
    ec_key: Any  # es-bot's private key (as the SDK would sign with it)
    stand_in: "issuer.TestIssuer"  # serves uri-bot's keys (its own key) at /keys

    @property
    def issuer(self) -> str:
        return self.auth.base_url

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    def machine(self, client_id: str, key_file: Path, *args: str, run=in_process_client.run_machine):
        """The machine client against the MCP server, as `client_id` with its key: in this process, or `run`."""
        options = ["--client-id", client_id, "--client-key", str(key_file), "--issuer", self.issuer]
        return run(self.mcp.mcp_url, *options, *args)


def add_client(db: Path, client_id: str, *args: str) -> None:
    done = in_process_client.run_cli(
        "auth_server.optional.add_client", "--db", str(db), "--client-id", client_id, *args
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def keyed(tmp_path_factory) -> Iterator[Keyed]:
    state = tmp_path_factory.mktemp("private_key_jwt")
    keys = state / "keys"
    auth_port, mcp_port = processes.free_port(), processes.free_port()
    issuer_url, mcp_url = f"http://127.0.0.1:{auth_port}", f"http://127.0.0.1:{mcp_port}/mcp"
    db = state / "auth.db"
    server = ["--db", str(db), "--resource", mcp_url, "--cimd-allow-host", "127.0.0.1"]
    with (
        issuer.serve_test_issuer() as stand_in,
        auth_server_in_thread(*server, port=auth_port) as auth,
        auth_server_in_thread(*server, "--issuer", issuer_url) as replica,
        mcp_server_in_thread("--transport", "http", "--issuer", issuer_url, port=mcp_port) as mcp,
    ):
        # es-bot: a key made the way the README says, its public half handed to the administrator.
        made = in_process_client.run_cli("machine_client.new_key", str(keys / "es-bot.jwk"))
        assert made.returncode == 0, made.stderr
        (state / "es-bot.jwks").write_text(made.stdout)
        add_client(db, "es-bot", "--jwks", str(state / "es-bot.jwks"), "--scope", "journal:read")
        # rs-bot: an RSA key in PEM form, as `openssl genpkey` writes it.
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = keys / "rs-bot.pem"
        pem.write_bytes(rsa_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        pem.chmod(0o600)
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key()))
        (state / "rs-bot.jwks").write_text(json.dumps({"keys": [rsa_jwk]}))
        add_client(db, "rs-bot", "--jwks", str(state / "rs-bot.jwks"))
        # uri-bot's keys are fetched from a jwks_uri; ssrf-bot's jwks_uri names a host the fence refuses.
        add_client(db, "uri-bot", "--jwks-uri", f"{stand_in.url}/keys")
        add_client(db, "ssrf-bot", "--jwks-uri", f"http://localhost:{stand_in.url.rsplit(':', 1)[1]}/keys")
        es_key = ECKey.import_key(json.loads((keys / "es-bot.jwk").read_text())).as_pem(private=True)
        yield Keyed(auth, replica, mcp, keys, es_key, stand_in)


def test_the_metadata_offers_private_key_jwt_with_its_algorithms(keyed: Keyed) -> None:
    metadata = httpx2.get(f"{keyed.issuer}/.well-known/oauth-authorization-server").json()
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
    assert metadata["token_endpoint_auth_signing_alg_values_supported"] == ["ES256", "RS256"]


def test_a_machine_calls_the_mcp_server_with_an_es256_jwk_and_with_an_rs256_pem(keyed: Keyed) -> None:
    es = keyed.machine("es-bot", keyed.keys / "es-bot.jwk", "call", "whoami")
    assert es.returncode == 0, es.stderr
    assert json.loads(es.stdout.split("structured: ")[1])["subject"] == "es-bot"
    assert "client_secret" not in es.stderr and "grant_type=client_credentials" in es.stderr
    # The servers run on threads of this process: each keeps its own log, and the command's stderr is its own.
    assert "issued a token to es-bot" in keyed.auth.logged() and "uvicorn.access" not in es.stderr
    rs = keyed.machine("rs-bot", keyed.keys / "rs-bot.pem", "call", "whoami")
    assert rs.returncode == 0, rs.stderr
    assert json.loads(rs.stdout.split("structured: ")[1])["client_id"] == "rs-bot"


def test_a_key_file_others_can_read_or_a_symlink_is_refused_before_anything_is_sent(keyed: Keyed, tmp_path) -> None:
    readable = tmp_path / "readable.pem"
    readable.write_bytes((keyed.keys / "rs-bot.pem").read_bytes())
    readable.chmod(0o644)
    refused = keyed.machine("rs-bot", readable, "tools", run=client_runs.run_machine)
    assert refused.returncode == 2 and "mode 0600" in refused.stderr
    link = tmp_path / "link.pem"
    link.symlink_to(keyed.keys / "rs-bot.pem")
    assert keyed.machine("rs-bot", link, "tools", run=client_runs.run_machine).returncode == 2


def test_an_assertion_is_accepted_once_at_any_replica(keyed: Keyed) -> None:
    assertion = client_assertion("es-bot", keyed.issuer, keyed.ec_key)
    first = client_credentials(keyed.token_endpoint, assertion)
    assert first.status_code == 200, first.text
    again = client_credentials(keyed.token_endpoint, assertion)
    assert again.json()["error"] == "invalid_client", again.text
    # The replica shares the database, and so the record of every jti used.
    other = client_assertion("es-bot", keyed.issuer, keyed.ec_key)
    assert client_credentials(keyed.token_endpoint, other).status_code == 200
    at_replica = client_credentials(f"{keyed.replica.base_url}/token", other)
    assert at_replica.json()["error"] == "invalid_client", at_replica.text


@pytest.mark.parametrize(
    ("attack", "claims"),
    [
        ("for another authorization server", {"aud": "http://127.0.0.1:1/other"}),
        ("expired", {"exp": int(time.time()) - 300}),
        ("iss is not sub", {"iss": "rs-bot"}),
        ("no jti", {"jti": issuer.OMIT}),
        ("alive for a day", {"exp": int(time.time()) + 86400}),
    ],
)
def test_an_assertion_that_is_not_the_clients_own_fresh_one_is_invalid_client(keyed: Keyed, attack, claims) -> None:
    assertion = client_assertion("es-bot", keyed.issuer, keyed.ec_key, **claims)
    refused = client_credentials(keyed.token_endpoint, assertion)
    assert refused.status_code in (400, 401) and refused.json()["error"] == "invalid_client", (attack, refused.text)


def test_an_assertion_signed_by_another_key_or_naming_another_client_id_is_refused(keyed: Keyed) -> None:
    other_key = ec.generate_private_key(ec.SECP256R1())
    forged = client_credentials(keyed.token_endpoint, client_assertion("es-bot", keyed.issuer, other_key))
    assert forged.json()["error"] == "invalid_client"
    mismatched = client_assertion("es-bot", keyed.issuer, keyed.ec_key)
    refused = client_credentials(keyed.token_endpoint, mismatched, client_id="rs-bot")
    assert refused.json()["error"] == "invalid_client", refused.text


def test_an_assertion_whose_header_holds_the_wrong_types_is_invalid_client_never_a_500(keyed: Keyed) -> None:
    assertion = client_assertion("es-bot", keyed.issuer, keyed.ec_key)
    for fields in ({"crit": 5}, {"kid": ["x"]}, {"alg": ["ES256"]}):
        answer = client_credentials(keyed.token_endpoint, keyed.stand_in.with_header(assertion, **fields))
        assert answer.status_code in (400, 401) and answer.json()["error"] == "invalid_client", (fields, answer.text)


def test_keys_at_a_jwks_uri_are_fetched_behind_the_fence(keyed: Keyed) -> None:
    stand_in = keyed.stand_in
    signed = client_assertion("uri-bot", keyed.issuer, stand_in.key)
    accepted = client_credentials(keyed.token_endpoint, signed)
    assert accepted.status_code == 200, accepted.text
    # The same keys, named by a URL the fence refuses (http to a host not allow-listed, loopback):
    # never fetched, whatever the assertion says.
    fetched = stand_in.fetched["/keys"]
    refused = client_credentials(keyed.token_endpoint, client_assertion("ssrf-bot", keyed.issuer, stand_in.key))
    assert refused.json()["error"] == "invalid_client", refused.text
    assert stand_in.fetched["/keys"] == fetched
    assert "could not fetch the key set at http://localhost" in keyed.auth.logged()


def test_registration_takes_keys_only_for_private_key_jwt_and_the_jwt_bearer_grant(keyed: Keyed) -> None:
    public = json.loads((keyed.keys.parent / "es-bot.jwks").read_text())
    user_client = {"client_name": "k", "redirect_uris": ["http://127.0.0.1:3/callback"]}
    cases = {
        "keys for a public client": ({**user_client, "token_endpoint_auth_method": "none", "jwks": public}, "jwks"),
        "private_key_jwt for the code grant": (
            {**user_client, "token_endpoint_auth_method": "private_key_jwt", "jwks": public},
            "JWT bearer grant only",
        ),
        # Without --trusted-idp this server offers no JWT bearer grant to register for (test_enterprise.py
        # registers one where it does, and checks the keys themselves).
        "the JWT bearer grant, not offered": (
            {"grant_types": [JWT_BEARER], "token_endpoint_auth_method": "private_key_jwt", "jwks": public},
            "grant_types",
        ),
    }
    for case, (metadata, reason) in cases.items():
        answer = httpx2.post(f"{keyed.issuer}/register", json=metadata)
        assert answer.status_code == 400, (case, answer.text)
        assert answer.json()["error"] == "invalid_client_metadata", (case, answer.text)
        assert reason in answer.json()["error_description"], (case, answer.text)
