"""The command line: flags that change what the server issues, usage errors, and a restart."""

import re

import jwt
import pytest
import typer

from lesson03 import addresses
from lesson03.auth_server.optional import add_resource_server, command_line
from lesson03.tests.support import processes
from lesson03.tests.support.oauth_driver import OAuth


def bot_token(oauth, **data: str) -> dict:
    response = oauth.client_credentials(**data)
    assert response.status_code == 200, response.text
    return response.json()


def test_signing_key_and_revocations_survive_a_restart(tmp_path) -> None:
    db, port = str(tmp_path / "auth.db"), processes.free_port()
    with processes.start_process("auth_server", "--db", db, port=port) as server:
        oauth = OAuth(server.base_url)
        kept, revoked = bot_token(oauth)["access_token"], bot_token(oauth)["access_token"]
        oauth.http.post(f"{oauth.base_url}/revoke", data={"token": revoked}, auth=oauth.BOT_AUTH)
        kid = oauth.verify(kept)[0]["kid"]
    assert not (tmp_path / "auth.db").stat().st_mode & 0o077  # it holds the private key: owner only

    with processes.start_process("auth_server", "--db", db, port=port) as server:
        oauth = OAuth(server.base_url)
        assert oauth.http.get(f"{oauth.base_url}/jwks.json").json()["keys"][0]["kid"] == kid
        assert oauth.verify(kept)[0]["kid"] == kid  # a resource server keeps accepting it
        assert oauth.active(kept)
        assert not oauth.active(revoked)
        log = server.stop()
    assert "generated a new signing key" not in log
    assert "dev-journal-bot-secret" not in log  # secrets and tokens never reach the log
    assert kept not in log and kept[-20:] not in log


def test_flags_set_issuer_audiences_and_lifetime(tmp_path) -> None:
    port = processes.free_port()
    issuer = f"http://localhost:{port}"
    resources = ["http://127.0.0.1:8200/mcp", "http://127.0.0.1:8201/mcp"]
    args = ["--db", str(tmp_path / "auth.db"), "--issuer", issuer, "--access-token-ttl", "60"]
    flags = [*args, "--resource", resources[0], "--resource", resources[1]]
    with processes.start_process("auth_server", *flags, port=port) as server:
        oauth = OAuth(server.base_url)
        metadata = oauth.metadata()
        assert metadata["issuer"] == issuer
        assert metadata["token_endpoint"] == f"{issuer}/token"

        default = bot_token(oauth)
        assert default["expires_in"] == 60
        claims = jwt.decode(default["access_token"], options={"verify_signature": False})
        assert claims["iss"] == issuer
        assert claims["aud"] == resources[0]  # the first --resource is the default audience
        assert claims["exp"] - claims["iat"] == 60
        second = bot_token(oauth, resource=resources[1])["access_token"]
        assert jwt.decode(second, options={"verify_signature": False})["aud"] == resources[1]


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (addresses.parse_addr, "9000", "is not HOST:PORT"),
        (command_line.parse_issuer, "http://127.0.0.1:9000/", "drop the slash"),
        (command_line.parse_issuer, "http://auth.example.com", "must use https"),
        (command_line.parse_resources, ["mcp-server"], "is not an absolute http(s) URL"),
        (add_resource_server.parse_client_id, "journal-mcp-server", "seeded at every start"),  # the first resource's
        (add_resource_server.parse_client_id, "https://notes.example/mcp", "not a URL"),  # a metadata document's
    ],
)
def test_bad_flag_values_are_refused(check, value, message) -> None:
    # The checks typer runs on each flag, called directly: no process needed per case.
    with pytest.raises(typer.BadParameter, match=re.escape(message)):
        check(value)


def test_a_bad_flag_is_a_usage_error_not_a_traceback() -> None:
    result = processes.run_cli("auth_server", "--issuer", "http://127.0.0.1:9000/")
    assert result.returncode == 2, result.stderr
    assert "Invalid value for '--issuer'" in result.stderr
    assert "drop the slash" in result.stderr
    assert "Traceback" not in result.stderr
