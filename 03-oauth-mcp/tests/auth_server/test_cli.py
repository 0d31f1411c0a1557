"""The command line: flags that change what the server issues, usage errors, and a restart."""

import jwt
import pytest


def bot_token(oauth, **data: str) -> dict:
    response = oauth.http.post(
        f"{oauth.base_url}/token", data={"grant_type": "client_credentials", **data}, auth=oauth.BOT_AUTH
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_signing_key_and_revocations_survive_a_restart(launch, allocate_port, tmp_path, oauth_for) -> None:
    db, port = str(tmp_path / "auth.db"), allocate_port()
    with launch("auth_server", "--db", db, port=port) as server:
        oauth = oauth_for(server.base_url)
        kept, revoked = bot_token(oauth)["access_token"], bot_token(oauth)["access_token"]
        oauth.http.post(f"{oauth.base_url}/revoke", data={"token": revoked}, auth=oauth.BOT_AUTH)
        kid = oauth.verify(kept)[0]["kid"]
    assert not (tmp_path / "auth.db").stat().st_mode & 0o077  # it holds the private key: owner only

    with launch("auth_server", "--db", db, port=port) as server:
        oauth = oauth_for(server.base_url)
        assert oauth.http.get(f"{oauth.base_url}/jwks.json").json()["keys"][0]["kid"] == kid
        assert oauth.verify(kept)[0]["kid"] == kid  # a resource server keeps accepting it
        assert oauth.active(kept)
        assert not oauth.active(revoked)
        log = server.stop()
    assert "generated a new signing key" not in log
    assert "dev-journal-bot-secret" not in log  # secrets and tokens never reach the log
    assert kept not in log and kept[-20:] not in log


def test_flags_set_issuer_audiences_and_lifetime(launch, allocate_port, tmp_path, oauth_for) -> None:
    port = allocate_port()
    issuer = f"http://localhost:{port}"
    resources = ["http://127.0.0.1:8200/mcp", "http://127.0.0.1:8201/mcp"]
    args = ["--db", str(tmp_path / "auth.db"), "--issuer", issuer, "--access-token-ttl", "60"]
    with launch("auth_server", *args, "--resource", resources[0], "--resource", resources[1], port=port) as server:
        oauth = oauth_for(server.base_url)
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
    ("args", "message"),
    [
        (["--addr", "9000"], "Invalid value for '--addr'"),
        (["--issuer", "http://127.0.0.1:9000/"], "drop the slash"),
        (["--issuer", "http://auth.example.com"], "must use https"),
        (["--resource", "mcp-server"], "Invalid value for '--resource'"),
    ],
)
def test_bad_flags_are_usage_errors(run_cli, args, message) -> None:
    result = run_cli("auth_server", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
