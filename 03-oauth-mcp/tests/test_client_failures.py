"""Lesson 03's client explains every failure, and recovers from the one it can (issue 21).

- A registration the authorization server no longer knows (it was restarted on a new database)
  is discarded on the `invalid_client` that says so, and the client registers again, once.
- A token signed with the restarted server's new key is accepted at once by a JWT-verifying MCP
  server, which looks for a key it lacks right away, but once per 30 s at most, whatever the tokens say;
  a new token it still refuses ends the client in one line that says why, after one login, not two.
- An authorization server that is down is named as the server it cannot talk to, not the MCP server.
- While the client waits for the browser, it says how long it will wait; when the wait is over,
  it says so, instead of `error: cannot talk to ...: ` with nothing after it.
- A token endpoint answering something that is not JSON, narrated under `--verbose`, ends in one
  line of error: narration never raises (issue 19, item 11).

Each runs against real processes: the real authorization server, restarted on a new database,
and the attacker's stand-in (support/attacker.py) for a broken token endpoint. Where the subject is how
the client ends, with which line, it is a real process too; the recovery runs the client's command in
this process (support/in_process_client.py).
"""

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from lesson03.client.__main__ import reason
from lesson03.tests.support import in_process_client, processes
from lesson03.tests.support.client_runs import run_client
from lesson03.tests.support.issuer import TestIssuer as Minting  # under its own name, pytest would collect it


@dataclass
class Restartable:
    """The authorization server, which a test may restart on a new, empty database, and two MCP servers trusting
    it: production's, which introspects, and the lesson's, which verifies JWTs with the keys it fetched."""

    port: int
    state: Path
    mcp: "processes.RunningServer"
    jwt: "processes.RunningServer"
    auth: "processes.RunningServer"
    stack: ExitStack
    databases: int = 1

    def restart_on_a_new_database(self) -> None:
        self.auth.stop()
        self.databases += 1
        resources = (self.mcp.mcp_url, self.jwt.mcp_url)
        self.auth = self.stack.enter_context(
            start_authorization_server(self.port, self.state, self.databases, resources)
        )


def start_authorization_server(port: int, state: Path, number: int, mcp_urls: tuple[str, ...]):
    resources = [f"--resource={url}" for url in mcp_urls]
    return processes.start_process("auth_server", "--db", str(state / f"auth{number}.db"), *resources, port=port)


@pytest.fixture(scope="module")
def restartable(tmp_path_factory) -> Iterator[Restartable]:
    state = tmp_path_factory.mktemp("restartable")
    auth_port, mcp_port, jwt_port = processes.free_port(), processes.free_port(), processes.free_port()
    mcp_urls = (f"http://127.0.0.1:{mcp_port}/mcp", f"http://127.0.0.1:{jwt_port}/mcp")
    # Introspection, not JWTs, for every test but the one about keys: a JWT verifier looks for the
    # restarted server's new key at once, but once per 30 s at most (a made-up kid must not make it
    # hammer the authorization server), and these tests restart it more often. So the lesson's server
    # with introspection plugged in: production/.
    verifier = ["--verifier", "introspection", "--introspection-cache", "1"]
    with ExitStack() as stack:
        auth = stack.enter_context(start_authorization_server(auth_port, state, 1, mcp_urls))
        issuer = ["--issuer", auth.base_url, "--db", str(state / "journal.db")]
        mcp = stack.enter_context(
            processes.start_process("production.server", "--transport", "http", *issuer, *verifier, port=mcp_port)
        )
        lessons = processes.start_process("server", "--transport", "http", "--issuer", auth.base_url, port=jwt_port)
        jwt = stack.enter_context(lessons)
        yield Restartable(auth_port, state, mcp, jwt, auth, stack)


def stored(tokens: Path, resource: str) -> dict:
    return json.loads(tokens.read_text())[resource]


def test_a_registration_the_restarted_server_forgot_is_replaced_once(restartable, tmp_path: Path) -> None:
    tokens, url = tmp_path / "tokens.json", restartable.mcp.mcp_url
    first = in_process_client.run_client(url, tokens, "call", "whoami")
    assert first.returncode == 0, first.stderr
    forgotten = stored(tokens, url)["client_info"]["client_id"]

    restartable.restart_on_a_new_database()
    logins = json.loads(tokens.read_text())
    logins[url]["expires_at"] = 1  # expired: the next run refreshes, with the registration it holds
    tokens.write_text(json.dumps(logins))

    again = in_process_client.run_client(url, tokens, "call", "whoami")
    assert again.returncode == 0, again.stderr
    assert '"subject": "alice"' in again.stdout
    assert "refused this client's registration (invalid_client): registering again" in again.stderr
    assert again.stderr.count("register this client (dynamic client registration)") == 1  # once
    assert len(again.consents) == 1
    assert stored(tokens, url)["client_info"]["client_id"] != forgotten


def key_fetches(server: "processes.RunningServer") -> int:
    return server.logged().count("signing key(s) from")  # server/issuer.py's log line for each key set fetched


def refused_made_up_kid(restartable: Restartable) -> bool:
    """Whether the JWT server refuses a token that names a key the authorization server never had."""
    made_up = Minting(url=restartable.auth.base_url, kid="made-up").mint(restartable.jwt.mcp_url)
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    answer = httpx2.post(restartable.jwt.mcp_url, json=request, headers={"Authorization": f"Bearer {made_up}"})
    return answer.status_code == 401 and 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_a_new_signing_key_is_fetched_at_once_and_a_refused_new_token_says_why(restartable, tmp_path: Path) -> None:
    # The JWT server holds the keys of the authorization server as it runs now (the first token it
    # meets makes it fetch them); restarted on a new database, the server signs with a new key.
    assert refused_made_up_kid(restartable)
    restartable.restart_on_a_new_database()

    # Issue 21: the key set was fetched seconds ago, and the new key was looked for only 30 s later:
    # the new token refused, a second login, then "JSON-RPC error -32603: Server returned an error response".
    run = in_process_client.run_client(restartable.jwt.mcp_url, tmp_path / "tokens.json", "call", "whoami")
    assert run.returncode == 0, run.stderr
    assert '"subject": "alice"' in run.stdout
    assert len(run.consents) == 1

    # Having just looked for a key it lacked, the server does not look again for 30 s, whatever kid
    # the tokens name: made-up kids cannot make it hammer the authorization server.
    fetched = key_fetches(restartable.jwt)
    assert all(refused_made_up_kid(restartable) for _ in range(5))
    assert key_fetches(restartable.jwt) == fetched

    # So a second restart within those 30 s gets the new token refused: the client says so, and what
    # to do, in one line (how it ends: a real process), after one login, not two.
    restartable.restart_on_a_new_database()
    refused = run_client(restartable.jwt.mcp_url, tmp_path / "again.json", "call", "whoami")
    assert refused.returncode == 1
    assert len(refused.consents) == 1
    assert "Traceback" not in refused.stderr
    assert refused.stderr.splitlines()[-1] == (
        f"error: the MCP server refused the token {restartable.auth.base_url} has just issued (invalid_token:"
        " The access token is invalid, expired or not for this server); logging in again would not help. If the"
        " authorization server has just restarted, call again in 30 s: the MCP server looks for its new signing"
        " key at most that often; otherwise the MCP server's log says why"
    )
    assert "token refused: the issuer has no key" in restartable.jwt.logged()


def test_an_authorization_server_that_is_down_is_named_not_the_mcp_server(restartable, tmp_path: Path) -> None:
    restartable.auth.stop()
    try:  # how the client ends, with which line: a real process
        run = run_client(restartable.mcp.mcp_url, tmp_path / "tokens.json", "call", "whoami")
    finally:
        restartable.restart_on_a_new_database()
    assert run.returncode == 1
    metadata = f"{restartable.auth.base_url}/.well-known/oauth-authorization-server"
    assert run.stderr.splitlines()[-1] == f"error: cannot talk to {metadata}: All connection attempts failed"


def test_waiting_for_the_browser_says_how_long_and_ends_naming_why(parties, tmp_path: Path) -> None:
    port = processes.free_port()
    callback = f"http://127.0.0.1:{port}/callback"

    def away(authorization_url: str, *user: str, decision: str) -> str:
        return ""  # the user never comes back

    run = run_client(
        parties.mcp_url,
        tmp_path / "t.json",
        "--login-timeout",
        "1",
        "call",
        "whoami",
        consenter=away,
        callback_port=port,
    )
    assert run.returncode == 1
    assert len(run.consents) == 1  # the authorization URL was printed, and answered by nobody
    assert f"Waiting up to 1 s for the browser to come back to {callback}" in run.stderr
    last = run.stderr.splitlines()[-1]
    assert last.startswith(f"error: authorization failed: no answer came back to {callback} within 1 s: "), last


def test_an_error_without_a_message_is_named_by_its_type_and_cause() -> None:
    try:
        try:
            raise TimeoutError
        except TimeoutError as timeout:
            raise ConnectionError from timeout
    except ConnectionError as error:
        assert reason(error) == "ConnectionError (TimeoutError)"
    assert reason(ValueError("bad input")) == "bad input"


def test_a_token_response_that_is_not_json_ends_in_one_line_even_narrated(tmp_path: Path) -> None:
    record = tmp_path / "attacker.jsonl"
    with processes.start_process(
        "tests.support.attacker", "--record", str(record), "--token-response", "not-json"
    ) as broken:
        run = run_client(broken.mcp_url, tmp_path / "tokens.json", "call", "whoami")  # always --verbose
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "[oauth] the token response is not a JSON object" in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [run.stderr.splitlines()[-1]], run.stderr
    assert errors[0].startswith("error: authorization failed: Invalid token response"), errors
