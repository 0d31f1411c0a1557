"""What lesson 03's processes write about what they handle: no secret at any log level, no forged lines.

Every process of the lesson runs one whole flow at `--log-level debug` (login with step-up,
a refresh, a machine login, logout), and every secret that flow produced is then looked for
in every log: access and refresh tokens, authorization codes, client secrets, the password,
password hashes. Untrusted text (a client id from a token, say) is logged with its control
characters escaped, so it cannot start a line of its own. A token a client puts in a URL is not
written in the access log.

The flow at debug runs real processes, servers and clients alike: its subject is everything a process
writes to its stderr (a stray print or warning included), with every logger at the level that process
alone sets. The two tests after it are about the lines the server's own log handler writes (its
filters escape and redact): their server runs its command on a thread of the test process, on a real
port, and its log is that handler's output (support/in_process_server.py).
"""

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from lesson03.tests.support import processes
from lesson03.tests.support.client_runs import run_client, run_machine
from lesson03.tests.support.in_process_server import ServerInThread, mcp_server_in_thread
from lesson03.tests.support.waiting import eventually

DEBUG = ("--log-level", "debug")


@pytest.fixture(scope="module")
def resource_server(test_issuer) -> Iterator[ServerInThread]:
    """conftest.py's, the MCP server over HTTP trusting the stand-in issuer, on a thread of this process."""
    with mcp_server_in_thread("--transport", "http", "--issuer", test_issuer.url) as rs:
        yield rs


@pytest.fixture(scope="module")
def chatty_parties(tmp_path_factory) -> Iterator[tuple["processes.RunningServer", "processes.RunningServer"]]:
    """An authorization server and an introspecting MCP server (production's), both logging at debug."""
    state = tmp_path_factory.mktemp("chatty")
    auth_port, mcp_port = processes.free_port(), processes.free_port()
    issuer, resource = f"http://127.0.0.1:{auth_port}", f"http://127.0.0.1:{mcp_port}/mcp"
    with (
        processes.start_process(
            "auth_server", *DEBUG, "--db", str(state / "auth.db"), "--resource", resource, port=auth_port
        ) as auth,
        processes.start_process(
            "production.server",
            *DEBUG,
            "--transport",
            "http",
            "--issuer",
            issuer,
            "--verifier",
            "introspection",
            "--db",
            str(state / "journal.db"),
            port=mcp_port,
        ) as mcp,
    ):
        yield auth, mcp


@pytest.mark.timeout(120)  # five client runs, each a process: the longest flow of the suite
def test_no_process_logs_a_secret_even_at_debug(chatty_parties, tmp_path: Path) -> None:
    auth, mcp = chatty_parties
    tokens = tmp_path / "tokens.json"
    secrets: set[str] = {"wonderland", "dev-journal-bot-secret", "dev-resource-server-secret", "scrypt$"}
    client_logs: list[str] = []

    def remember_tokens() -> None:
        stored = json.loads(tokens.read_text())[mcp.mcp_url]["tokens"]
        secrets.update(stored[kind] for kind in ("access_token", "refresh_token"))

    login = run_client(mcp.mcp_url, tokens, *DEBUG, "call", "create_entry", "title=t", "content=c")  # + step-up
    assert login.returncode == 0, login.stderr
    assert len(login.consents) == 2
    secrets.update(parse_qs(urlsplit(location).query)["code"][0] for location in login.consents)
    remember_tokens()

    logins = json.loads(tokens.read_text())
    logins[mcp.mcp_url]["expires_at"] = 1  # the client believes its token expired: it refreshes
    tokens.write_text(json.dumps(logins))
    refreshed = run_client(mcp.mcp_url, tokens, *DEBUG, "call", "whoami")
    assert "grant_type=refresh_token" in refreshed.stderr, refreshed.stderr
    remember_tokens()

    machine = run_machine(
        mcp.mcp_url,
        *DEBUG,
        "--client-id",
        "journal-bot",
        "--issuer",
        auth.base_url,
        "--client-secret",
        "dev-journal-bot-secret",
        "call",
        "whoami",
    )
    assert machine.returncode == 0, machine.stderr
    logout = run_client(mcp.mcp_url, tokens, *DEBUG, "logout")
    assert logout.returncode == 0, logout.stderr
    client_logs += [login.stderr, refreshed.stderr, machine.stderr, logout.stderr]

    logs = {"authorization server": auth.logged(), "MCP server": mcp.logged(), "client": "\n".join(client_logs)}
    assert all("DEBUG" in text for text in logs.values()), "the processes did not log at debug"
    for process, text in logs.items():
        leaked = [secret[:12] for secret in secrets if secret in text]
        assert not leaked, f"the {process} logged secrets starting {leaked}"


def test_untrusted_text_cannot_forge_a_log_line(resource_server, test_issuer) -> None:
    forged = test_issuer.mint(
        resource_server.mcp_url, client_id="evil\n2026-01-01 00:00:00 INFO FORGED admin logged in"
    )
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "create_entry", "arguments": {}}}
    headers = {"Authorization": f"Bearer {forged}", "Accept": "application/json, text/event-stream"}
    assert httpx2.post(resource_server.mcp_url, json=call, headers=headers, timeout=10).status_code == 403
    log = resource_server.logged()
    assert "lacks scope" in log  # the line that names the client was written ...
    assert "evil\\n2026-01-01" in log  # ... with the newline escaped,
    assert not any(line.startswith("2026-01-01 00:00:00 INFO FORGED") for line in log.splitlines())  # not a new line


def test_a_token_in_the_url_is_not_written_in_the_access_log(resource_server, test_issuer) -> None:
    # A valid token, put in the URL (the MCP authorization spec forbids it): refused, since only the
    # Authorization header carries one, and uvicorn's access log writes each request's path at info,
    # the default level. The server writes `?...` in place of a query (server/logs.py).
    token = test_issuer.mint(resource_server.mcp_url)
    queries = [f"?token={token}", f"?access_token={token}&state=x", f"?api_key={token}"]
    access_line = '"POST /mcp?'  # how the access line of such a request starts, with or without its query
    before = resource_server.logged().count(access_line)
    for query in queries:
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        headers = {"Accept": "application/json, text/event-stream"}
        assert httpx2.post(resource_server.mcp_url + query, json=ping, headers=headers, timeout=10).status_code == 401

    def every_access_line() -> bool:
        return resource_server.logged().count(access_line) >= before + len(queries)

    eventually(every_access_line, 10, "an access line for each request")
    log = resource_server.logged()
    assert token not in log
    assert log.count('"POST /mcp?... HTTP/1.1" 401') >= len(queries)
