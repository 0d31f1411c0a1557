"""A made-up X-Forwarded-For does not change the client address the MCP server or the upstream API logs.

uvicorn's default believes that header (and takes the client's address from it) when a request
comes from 127.0.0.1, where the lesson runs: any process on the machine, or anyone behind a local
proxy that passes the header on, could choose the address in their logs. Neither trusts a proxy
(server/__main__.py and upstream/__main__.py, `proxy_headers=False`); the authorization server,
whose throttles count per address, trusts only the proxies named with --forwarded-allow-ips
(tests/auth_server/test_forwarded_headers.py).

The attack goes over a real port to each server's own command, run on a thread of the test process
(support/in_process_server.py, in_process_upstream.py): its uvicorn is configured exactly as the command
configures it, and its log is what its own log handler writes.
"""

import secrets
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from lesson03.tests.support.in_process_server import mcp_server_in_thread
from lesson03.tests.support.in_process_upstream import upstream_in_thread
from lesson03.tests.support.waiting import eventually

MADE_UP = "203.0.113.7"  # a documentation address (RFC 5737)
NO_ISSUER = "http://127.0.0.1:9"  # neither asks its issuer anything until a token arrives


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Any]]:
    with (
        mcp_server_in_thread("-t", "http", "--issuer", NO_ISSUER) as mcp,
        upstream_in_thread("--issuer", NO_ISSUER) as upstream,
    ):
        yield {"MCP server": mcp, "upstream API": upstream}


@pytest.mark.parametrize("which", ["MCP server", "upstream API"])
def test_a_made_up_forwarded_address_is_not_what_the_server_logs(servers, which: str) -> None:
    server = servers[which]
    path = f"/forwarded-{secrets.token_hex(4)}"  # a path of this request's own, to find its log line
    httpx2.get(f"{server.base_url}{path}", headers={"X-Forwarded-For": MADE_UP}, timeout=10)

    def logged_line() -> str:
        return next((line for line in server.logged().splitlines() if path in line), "")

    line = eventually(logged_line, 10, f"the access log line of GET {path}")
    assert " 127.0.0.1:" in line and MADE_UP not in line, line
