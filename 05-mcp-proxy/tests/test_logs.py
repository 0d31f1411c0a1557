"""What the proxy writes in its log: no credential of a caller's or of a backend's, at any level.

A caller's token pasted into a URL is refused, and the access log shows `/mcp?...` in place of
the query (server/logs.py). At `--log-level debug`, httpcore2, under the client of each HTTP
backend, would write every answer's headers, a backend's `Set-Cookie` (the proxy's session
there) among them. The proxy keeps httpcore2 at info (server/logs.py).
"""

from collections.abc import Iterator

import httpx2
import pytest

from lesson05.tests.support import backends, clients, cookie_backend, in_process, processes, proxies, raw_http, tokens
from lesson05.tests.support.cookie_backend import SESSION_COOKIE
from lesson05.tests.support.waiting import eventually

pytestmark = pytest.mark.anyio

BACKEND_TOKEN = "cookie-backend-token-0005"  # what the proxy sends the backend, from its own environment


def test_a_token_in_the_url_is_not_written_in_the_access_log(guarded) -> None:
    # `guarded` logs at info, the default, where uvicorn writes one access line per request.
    queries = [f"?token={tokens.PROXY_WIDE}", f"?access_token={tokens.PROXY_WIDE}&x=1", f"?authToken={tokens.ALICE}"]
    access_line = '"POST /mcp?'  # how the access line of such a request starts, with or without its query
    before = guarded.logged().count(access_line)
    for query in queries:
        response = httpx2.post(guarded.mcp_url + query, json=raw_http.INITIALIZE, headers=raw_http.ACCEPT, timeout=10)
        assert response.status_code == 401

    def every_access_line() -> bool:
        return guarded.logged().count(access_line) >= before + len(queries)

    eventually(every_access_line, 10, "an access line for each request")
    log = guarded.logged()
    assert tokens.PROXY_WIDE not in log and tokens.ALICE not in log
    assert log.count('"POST /mcp?... HTTP/1.1" 401') >= len(queries)


@pytest.fixture(scope="module")
def chatty_proxy() -> Iterator[processes.RunningServer]:
    """The proxy's process at --log-level debug, in front of an HTTP backend that sets a session cookie on every
    answer (served from a thread here: the proxy's log is what this module reads)."""
    port = processes.free_port()
    with in_process.serve(cookie_backend.app(), port):
        servers = {"cookies": backends.over_http(f"http://127.0.0.1:{port}/mcp", "COOKIE_BACKEND_TOKEN")}
        with proxies.start_proxy(
            servers, env={"COOKIE_BACKEND_TOKEN": BACKEND_TOKEN}, log_level="debug", healthInterval=5
        ) as proxy:
            yield proxy


async def test_at_debug_level_no_backend_cookie_is_logged(chatty_proxy) -> None:
    proxy = chatty_proxy
    async with clients.connect(proxy.mcp_url) as client:
        result = await client.call_tool("cookies__echo_message", {"message": "through the proxy"})
    assert clients.text(result) == "through the proxy"
    log = proxy.logged()
    assert "DEBUG" in log  # the proxy really logs at debug
    # Every answer of the backend set its cookie: httpcore2's debug lines quote each answer's headers.
    assert SESSION_COOKIE not in log
    assert "httpcore2" not in log
    assert BACKEND_TOKEN not in log
