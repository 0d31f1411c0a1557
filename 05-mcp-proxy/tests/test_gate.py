"""Lesson 05's gate: bearer tokens in the header only, per backend, checked before any MCP message is read."""

import httpx2
import pytest

from lesson05.tests.support import clients, raw_http, tokens

pytestmark = pytest.mark.anyio

PROXY_WIDE, FAULTY_ONLY = tokens.PROXY_WIDE, tokens.FAULTY_ONLY  # what the `guarded` proxy admits (conftest.py)


def post(url: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    """An `initialize` request, the first thing a client sends."""
    return httpx2.post(url, json=raw_http.INITIALIZE, headers={**raw_http.ACCEPT, **(headers or {})}, timeout=10)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {PROXY_WIDE}"},
        {"Authorization": f"Bearer {PROXY_WIDE}x"},
        {"X-Api-Key": PROXY_WIDE},
    ],
    ids=["none", "wrong", "not-bearer", "longer", "other-header"],
)
def test_no_valid_token_is_a_401_before_mcp(guarded, headers) -> None:
    response = post(guarded.mcp_url, headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="mcp-proxy"'
    assert response.json()["error"]["message"].startswith("Unauthorized: missing or unknown bearer token")
    assert "mcp-session-id" not in response.headers


def test_a_token_in_the_url_is_ignored(guarded) -> None:
    for query in (f"?token={PROXY_WIDE}", f"?access_token={PROXY_WIDE}", f"?authToken={PROXY_WIDE}"):
        assert post(guarded.mcp_url + query).status_code == 401


def test_a_valid_token_opens_the_door(guarded) -> None:
    response = post(guarded.mcp_url, {"Authorization": f"Bearer {PROXY_WIDE}"})
    assert response.status_code == 200
    assert "mcp-session-id" in response.headers


async def test_each_token_sees_only_the_backends_it_admits(guarded) -> None:
    async with clients.connect(guarded.mcp_url, PROXY_WIDE) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        hidden = await client.call_tool("faulty__calc", {"a": 1, "b": 1})
    assert names == {"basic__echo_message", "basic__add_numbers"}
    assert clients.text(hidden) == "Unknown tool: faulty__calc"
    # The per-backend route takes that backend's tokens, and only those.
    assert post(f"{guarded.base_url}/basic/mcp", {"Authorization": f"Bearer {PROXY_WIDE}"}).status_code == 200
    assert post(f"{guarded.base_url}/basic/mcp", {"Authorization": f"Bearer {FAULTY_ONLY}"}).status_code == 401
    assert post(f"{guarded.base_url}/faulty/mcp", {"Authorization": f"Bearer {PROXY_WIDE}"}).status_code == 401
    assert post(f"{guarded.base_url}/faulty/mcp", {"Authorization": f"Bearer {FAULTY_ONLY}"}).status_code == 200
    assert post(f"{guarded.base_url}/nobody/mcp", {"Authorization": f"Bearer {PROXY_WIDE}"}).status_code == 404


def test_a_session_answers_only_the_token_that_opened_it(guarded) -> None:
    # The attacker holds a valid token of their own, and the victim's session id (from a log, say).
    def request(token: str, session_id: str, method: str = "POST") -> httpx2.Response:
        headers = {
            **raw_http.ACCEPT,
            "Authorization": f"Bearer {token}",
            "Mcp-Session-Id": session_id,
            "MCP-Protocol-Version": raw_http.PROTOCOL_VERSION,
        }
        ping = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
        return httpx2.request(method, guarded.mcp_url, headers=headers, json=ping if method == "POST" else None)

    with httpx2.Client(
        base_url=guarded.base_url, headers={"Authorization": f"Bearer {PROXY_WIDE}"}, timeout=10
    ) as http:
        victims = raw_http.open_session(http)
    for method in ("POST", "GET", "DELETE"):  # a question's answer, the session's stream, its end
        refused = request(FAULTY_ONLY, victims, method)
        assert refused.status_code == 404, (method, refused.text)
        assert refused.json()["error"]["message"] == "Session not found"  # as if it did not exist
    assert raw_http.jsonrpc_body(request(PROXY_WIDE, victims)) == {"jsonrpc": "2.0", "id": 7, "result": {}}


def test_healthz_shows_a_backends_error_only_to_a_caller_admitted_to_it(guarded) -> None:
    anonymous, insider, faulty_only = guarded.health(), guarded.health(PROXY_WIDE), guarded.health(FAULTY_ONLY)
    for health in (anonymous, insider, faulty_only):  # everyone sees the states
        assert health["backends"]["faulty"]["state"] in ("failed", "connecting")
        assert health["backends"]["basic"]["state"] == "ready"
    assert "error" not in anonymous["backends"]["faulty"]
    # The proxy's own token does not admit a caller to a backend with tokens of its own: nor to its errors.
    assert "error" not in insider["backends"]["faulty"]
    assert "Connection closed" in faulty_only["backends"]["faulty"]["error"]
    assert "error" in insider["backends"]["basic"] and "error" not in faulty_only["backends"]["basic"]


def test_with_tokens_per_backend_only_healthz_shows_an_anonymous_caller_no_error(team) -> None:
    anonymous, mallory, alice = team.health(), team.health(tokens.MALLORY), team.health(tokens.ALICE)
    assert anonymous["backends"]["faulty"]["state"] == "ready"  # the states, for anyone
    assert anonymous["backends"]["payroll"]["state"] in ("failed", "connecting")
    assert "error" not in anonymous["backends"]["payroll"] and "error" not in anonymous["backends"]["faulty"]
    assert "error" not in mallory["backends"]["payroll"]  # admitted to faulty, not to payroll
    assert "PAYROLL_DATABASE_URL is not set" in alice["backends"]["payroll"]["error"]


def test_the_proxy_log_never_holds_a_token(guarded) -> None:
    post(guarded.mcp_url, {"Authorization": "Bearer wrong-token-in-log?"})
    log = guarded.logged()
    assert PROXY_WIDE not in log
    assert FAULTY_ONLY not in log
    assert "wrong-token-in-log" not in log


def test_the_base_url_is_a_name_the_proxy_answers_to_and_no_other(guarded) -> None:
    # `baseURL` (http://proxy.workshop.test:9090) is how clients reach this proxy, say through a
    # reverse proxy: its Host and Origin pass the DNS-rebinding check; a name nobody configured does not.
    admitted = {"Authorization": f"Bearer {PROXY_WIDE}", "Host": "proxy.workshop.test:9090"}
    assert post(guarded.mcp_url, admitted).status_code == 200
    assert post(guarded.mcp_url, {**admitted, "Origin": "http://proxy.workshop.test:9090"}).status_code == 200
    assert post(guarded.mcp_url, {**admitted, "Host": "evil.example:9090"}).status_code == 421
    assert post(guarded.mcp_url, {**admitted, "Origin": "http://evil.example"}).status_code == 403
