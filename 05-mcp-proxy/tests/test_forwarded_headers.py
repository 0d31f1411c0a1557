"""A made-up X-Forwarded-For does not change the client address the proxy logs.

uvicorn's default believes that header (and takes the client's address from it) when a request
comes from 127.0.0.1, where the lesson runs: any process on the machine, or anyone behind a local
proxy that passes the header on, could choose the address in the proxy's log. The proxy trusts no
proxy in front of it (server/__main__.py, `proxy_headers=False`).
"""

import secrets

import httpx2

from lesson05.tests.support.waiting import eventually

MADE_UP = "203.0.113.7"  # a documentation address (RFC 5737)


def test_a_made_up_forwarded_address_is_not_what_the_proxy_logs(guarded) -> None:
    path = f"/forwarded-{secrets.token_hex(4)}"  # a path of this request's own, to find its log line
    httpx2.get(f"{guarded.base_url}{path}", headers={"X-Forwarded-For": MADE_UP}, timeout=10)

    def logged_line() -> str:
        return next((line for line in guarded.logged().splitlines() if path in line), "")

    line = eventually(logged_line, 10, f"the access log line of GET {path}")
    assert " 127.0.0.1:" in line and MADE_UP not in line, line
