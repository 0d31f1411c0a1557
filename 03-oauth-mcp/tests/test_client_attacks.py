"""Lesson 03's client against a malicious server and a hostile machine: it gives nothing away.

Three rules carry the defences: a token belongs to the resource it was issued for (the token
file is keyed by resource); nothing a server says is stored or used before it is validated
(discovery documents are never stored; a refresh goes only to the token endpoint of the
issuer's freshly validated metadata); and a pre-registered client's secret goes to its own
issuer (`--issuer`) only, whatever client_id another server hands out (`python -m
03-oauth-mcp.preregistered_client`). The attacker is a real process (support/attacker.py) that
records every request it receives. The client runs its own command in this process
(support/in_process_client.py), on real ports: what it sends where is the subject; it runs as a
process of its own where the subject is how the command ends (a token file it refuses).
"""

import base64
import json
import socket
from pathlib import Path
from urllib.parse import parse_qs, quote, quote_plus, urlencode, urlsplit

import httpx2
import pytest

from lesson03.tests.support import client_runs, processes
from lesson03.tests.support.browser_user import consent
from lesson03.tests.support.in_process_client import run_client
from lesson03.tests.support.waiting import eventually


def start_attacker(record: Path, *options: str):
    return processes.start_process("tests.support.attacker", "--record", str(record), *options)


def login(parties, tokens: Path) -> dict:
    """Alice logs in to the real MCP server; returns what the client stored for it."""
    run = run_client(parties.mcp_url, tokens, "call", "whoami")
    assert run.returncode == 0, run.stderr
    return json.loads(tokens.read_text())[parties.mcp_url]


def expire_locally(tokens: Path, resource: str) -> None:
    """Make the client believe its access token expired, so its next run refreshes (no waiting)."""
    logins = json.loads(tokens.read_text())
    logins[resource]["expires_at"] = 1  # 1970: long expired (0 would mean "never", to the SDK)
    tokens.write_text(json.dumps(logins))


def assert_received_nothing_of(record: Path, stored: dict) -> None:
    requests = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    assert requests, "the attacker was never even asked"
    for request in requests:
        assert "authorization" not in {name.lower() for name in request["headers"]}, request
        text = json.dumps(request)
        for kind in ("access_token", "refresh_token"):
            assert stored["tokens"][kind] not in text, f"the attacker received the {kind}: {request['path']}"


def test_a_fake_mcp_server_naming_the_real_issuer_gets_no_token(parties, tmp_path: Path) -> None:
    tokens, record = tmp_path / "tokens.json", tmp_path / "attacker.jsonl"
    stored = login(parties, tokens)
    with start_attacker(record, "--authorization-server", parties.issuer) as fake:
        # The real authorization server refuses a code for the fake resource (RFC 8707) ...
        first = run_client(fake.mcp_url, tokens, "call", "whoami")
        assert first.returncode == 1
        assert "invalid_target" in first.stderr
        # ... and a second run still has nothing for it: the real token is filed under the real server.
        second = run_client(fake.mcp_url, tokens, "call", "whoami")
        assert second.returncode == 1
    assert_received_nothing_of(record, stored)
    assert json.loads(tokens.read_text())[parties.mcp_url]["tokens"] == stored["tokens"]


def test_a_fake_authorization_server_claiming_the_real_issuer_never_gets_the_refresh(parties, tmp_path: Path) -> None:
    tokens, record = tmp_path / "tokens.json", tmp_path / "attacker.jsonl"
    stored = login(parties, tokens)
    with start_attacker(record, "--claimed-issuer", parties.issuer) as fake:
        refused = run_client(fake.mcp_url, tokens, "call", "whoami")
        assert refused.returncode == 1
        assert "issuer mismatch" in refused.stderr  # the SDK's exact-issuer check (RFC 8414 §3.3)

        expire_locally(tokens, parties.mcp_url)
        refreshed = run_client(parties.mcp_url, tokens, "call", "whoami")

    assert refreshed.returncode == 0, refreshed.stderr
    assert refreshed.consents == []  # no user involved: a refresh
    assert f"grant_type=refresh_token: POST {parties.issuer}/token" in refreshed.stderr
    assert json.loads(tokens.read_text())[parties.mcp_url]["expires_at"] > stored["expires_at"]
    assert_received_nothing_of(record, stored)


def test_a_refusal_nested_thousands_deep_is_an_ordinary_failed_refresh(tmp_path: Path) -> None:
    """The client reads a refused refresh's body to learn whether the server forgot its registration
    (`invalid_client`): 5,000 nested arrays there were a RecursionError, which no code expecting
    "not JSON" catches, and the login in progress ended in it."""
    tokens, record = tmp_path / "tokens.json", tmp_path / "attacker.jsonl"
    with start_attacker(record, "--refresh-error", "deep-json") as attacker:
        run_client(attacker.mcp_url, tokens, "call", "whoami")  # tokens issued, then the server still says 401
        expire_locally(tokens, attacker.mcp_url)
        refreshed = run_client(attacker.mcp_url, tokens, "call", "whoami")
    assert "token request refused: HTTP 400" in refreshed.stderr  # the refresh was refused ...
    assert "RecursionError" not in refreshed.stderr, refreshed.stderr
    assert refreshed.consents  # ... and the client logged in again, as after any refused refresh
    assert [line for line in refreshed.stderr.splitlines() if line.startswith("error: ")] == [
        refreshed.stderr.splitlines()[-1]
    ]


# A client an administrator registered at the real authorization server, with a secret holding the
# characters that form encoding and HTTP Basic change: the secret is looked for in each of its forms.
CLIENT_ID, CLIENT_SECRET = "journal-cli", "s3cr:t/+ é&=%"
PREREGISTERED = "preregistered_client"  # the client's command for a client registered beforehand


def secret_forms(client_id: str, secret: str) -> list[str]:
    """The secret as it would travel: raw, form-urlencoded, in an HTTP Basic header (plain or RFC 6749 §2.3.1)."""
    basic = [f"{client_id}:{secret}", f"{quote(client_id, safe='')}:{quote(secret, safe='')}"]
    return [secret, quote(secret, safe=""), quote_plus(secret), *(base64.b64encode(b.encode()).decode() for b in basic)]


def recorded(record: Path) -> list[dict]:
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


def assert_no_secret_in(requests: list[dict]) -> None:
    assert requests, "the attacker was never even asked"
    for request in requests:
        seen = " ".join([request["path"], *request["headers"].values(), request["body"]])
        for form in secret_forms(CLIENT_ID, CLIENT_SECRET):
            assert form not in seen, f"the attacker received the client secret: {request['method']} {request['path']}"


def test_a_malicious_server_handing_out_our_client_id_never_gets_its_secret_at_first_login(
    parties, tmp_path: Path
) -> None:
    """The MCP server names its own authorization server, which registers every client as ours."""
    tokens, record = tmp_path / "tokens.json", tmp_path / "attacker.jsonl"
    preregistered = ("--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--issuer", parties.issuer)
    with start_attacker(record, "--registered-client-id", CLIENT_ID) as attacker:
        refused = run_client(attacker.mcp_url, tokens, *preregistered, "call", "whoami", program=PREREGISTERED)
    assert_no_secret_in(recorded(record))
    assert refused.returncode == 1
    assert f"not {parties.issuer}, where {CLIENT_ID} is registered: refusing" in refused.stderr
    assert refused.consents == []  # the user was sent nowhere


def test_a_malicious_server_never_gets_a_pre_registered_secret_by_refresh_or_logout(parties, tmp_path: Path) -> None:
    """A login made earlier at the malicious server, through registration, carries our client_id:
    neither its refresh (no user involved) nor its logout may add our secret."""
    tokens, record = tmp_path / "tokens.json", tmp_path / "attacker.jsonl"
    preregistered = ("--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--issuer", parties.issuer)
    with start_attacker(record, "--registered-client-id", CLIENT_ID) as attacker:
        run_client(attacker.mcp_url, tokens, "call", "whoami")  # tokens issued, then the server still says 401
        login = json.loads(tokens.read_text())[attacker.mcp_url]
        assert login["client_info"]["client_id"] == CLIENT_ID and login["tokens"]
        expire_locally(tokens, attacker.mcp_url)
        before = len(recorded(record))

        refreshed = run_client(attacker.mcp_url, tokens, *preregistered, "call", "whoami", program=PREREGISTERED)
        assert_no_secret_in(recorded(record)[before:])
        assert refreshed.returncode == 1
        assert refreshed.consents == []
        before = len(recorded(record))

        logged_out = run_client(attacker.mcp_url, tokens, *preregistered, "logout", program=PREREGISTERED)
        assert logged_out.returncode == 0, logged_out.stderr
        assert any(request["path"] == "/revoke" for request in recorded(record)[before:]), "revoked where issued"
        assert_no_secret_in(recorded(record)[before:])


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()  # also a port scan's connect-and-close
    except OSError:
        return False
    return True


def request_parameters(authorization_url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(authorization_url).query).items()}


def test_the_callback_ignores_strangers_and_waits_for_its_own_answer(parties, tmp_path: Path) -> None:
    forged: list[int] = []

    def strangers_first(authorization_url: str, *user: str, decision: str) -> str:
        callback = request_parameters(authorization_url)["redirect_uri"]
        port = urlsplit(callback).port
        eventually(lambda: listening(port), message="the callback listening")
        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.sendall(b"\x00\xff\xfe not http at all\r\n\r\n")  # bytes that are not a request
        with socket.create_connection(("127.0.0.1", port)) as slow:
            slow.sendall(b"GET /callback?code=x")  # half a request, then the attacker goes away
        for query in ({"error": "access_denied"}, {"code": "stolen", "state": "guessed"}):
            forged.append(httpx2.get(f"{callback}?{urlencode(query)}", timeout=5).status_code)
        return consent(authorization_url, *user, decision=decision)

    run = run_client(parties.mcp_url, tmp_path / "tokens.json", "call", "whoami", consenter=strangers_first)
    assert run.returncode == 0, run.stderr
    assert '"subject": "alice"' in run.stdout
    assert forged == [400, 400]  # answered, and ignored


@pytest.mark.parametrize(
    ("claimed_issuer", "shown"),
    [
        pytest.param(None, "Authorization refused: access_denied \\x1b[2J\\x1b[31mSend your password to", id="escaped"),
        pytest.param("http://127.0.0.1:1", "an authorization error from an unexpected issuer: ignored", id="mix-up"),
    ],
)
def test_an_authorization_error_is_shown_escaped_and_only_from_the_real_issuer(
    parties, tmp_path: Path, claimed_issuer: str | None, shown: str
) -> None:
    def error_redirect(authorization_url: str, *user: str, decision: str) -> str:
        request = request_parameters(authorization_url)
        answer = {
            "error": "access_denied",
            "error_description": "\x1b[2J\x1b[31mSend your password to evil.example",
            "state": request["state"],
            "iss": claimed_issuer or parties.issuer,
        }
        eventually(lambda: listening(urlsplit(request["redirect_uri"]).port), message="the callback listening")
        location = f"{request['redirect_uri']}?{urlencode(answer)}"
        httpx2.get(location, timeout=5)
        return location

    run = run_client(parties.mcp_url, tmp_path / "tokens.json", "call", "whoami", consenter=error_redirect)
    assert run.returncode == 1
    assert shown in run.stderr
    assert "\x1b" not in run.stderr
    if claimed_issuer:
        assert "Send your password" not in run.stderr


def test_a_symlink_planted_as_the_token_file_is_refused(parties, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    tokens = tmp_path / "tokens.json"
    tokens.symlink_to(victim)
    run = client_runs.run_client(parties.mcp_url, tokens, "call", "whoami")
    assert run.returncode == 1
    assert "not a regular file of ours" in run.stderr
    assert victim.read_text() == "precious"


def test_a_token_file_others_can_read_is_refused(parties, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text("{}")
    tokens.chmod(0o644)
    run = client_runs.run_client(parties.mcp_url, tokens, "call", "whoami")
    assert run.returncode == 1
    assert "must be a file owned by you with mode 0600" in run.stderr


def test_a_planted_temporary_file_does_not_capture_the_tokens(parties, tmp_path: Path) -> None:
    captured = tmp_path / "captured.json"
    (tmp_path / "tokens.tmp").symlink_to(captured)  # where the client used to write before renaming
    stored = login(parties, tmp_path / "tokens.json")
    assert not captured.exists()
    assert (tmp_path / "tokens.json").stat().st_mode & 0o777 == 0o600
    assert stored["tokens"]["access_token"]
