"""Token passthrough (the confused deputy), run twice: lesson 02 forwarding its caller's token to an upstream
API, and lesson 03 exchanging it for a token issued to that API (RFC 8693).

    python -m 03-oauth-mcp.labs.token_passthrough

Lesson 02 is the vulnerable variant here, as it is in the workshop: it teaches how a token reaches
a tool, and why forwarding it is forbidden. Its upstream receives the caller's own token, which
it could replay wherever that token works. Audience binding limits the harm: a token issued for
lesson 02's server is refused by lesson 03's. Lesson 03's server never forwards a token: it trades
its caller's for one whose audience is the upstream, whose subject is still the user, and which
names the MCP server as the actor. Everything runs on 127.0.0.1 and stops at the end.
"""

import re
import tempfile
from contextlib import ExitStack
from importlib import import_module
from pathlib import Path

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

LESSON = "03-oauth-mcp"
stage = import_module(f"{LESSON}.labs.stage")
mask_token = import_module(f"{LESSON}.safe_output").mask_token
BOT = ("journal-bot", "dev-journal-bot-secret")  # a development machine client the authorization server seeds
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "replay", "version": "0"}},
}


async def make_authenticated_request(mcp_url: str, token: str) -> dict:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(mcp_url, http_client=http)) as client,
    ):
        result = await client.call_tool("make_authenticated_request", {"message": "hello upstream"})
        return result.structured_content or {}


def replay(url: str, token: str) -> str:
    """Send `token` to `url` as its bearer: what comes back, in a few words."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    answer = httpx2.post(url, json=INITIALIZE, headers=headers, timeout=10)
    error = re.search(r'error="([^"]+)"', answer.headers.get("www-authenticate", ""))
    return f"HTTP {answer.status_code}" + (f' error="{error.group(1)}"' if error else "")


def main() -> None:
    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        ports = {name: stage.free_port() for name in ("issuer", "l02", "l02_upstream", "l03", "l03_upstream")}
        l02_url, l03_url = f"http://127.0.0.1:{ports['l02']}/mcp", f"http://127.0.0.1:{ports['l03']}/mcp"
        upstream_api = f"http://127.0.0.1:{ports['l03_upstream']}"
        issuer = stack.enter_context(
            stage.running(
                f"{LESSON}.auth_server",
                ports["issuer"],
                "--db",
                f"{state}/auth.db",
                "--resource",
                l03_url,
                "--resource",
                l02_url,
                "--upstream",
                upstream_api,
            )
        )
        l02_upstream = stack.enter_context(stage.running("02-basic-token-passthrough.upstream", ports["l02_upstream"]))
        stack.enter_context(
            stage.running(
                "02-basic-token-passthrough.server",
                ports["l02"],
                "-t",
                "http",
                "--upstream-url",
                f"{l02_upstream}/anything",
            )
        )
        stack.enter_context(stage.running(f"{LESSON}.upstream", ports["l03_upstream"], "--issuer", issuer))
        stack.enter_context(
            stage.running(
                f"{LESSON}.server",
                ports["l03"],
                "-t",
                "http",
                "--issuer",
                issuer,
                "--upstream-url",
                f"{upstream_api}/anything",
            )
        )

        print("Token passthrough: an MCP server calls an upstream API for its caller.")
        print("1. Lesson 02 forwards its caller's token (02-basic-token-passthrough/server/app.py):")
        data = {"grant_type": "client_credentials", "resource": l02_url, "scope": "journal:read"}
        caller_token = httpx2.post(f"{issuer}/token", data=data, auth=BOT, timeout=10).json()["access_token"]
        seen = anyio.run(make_authenticated_request, l02_url, caller_token)
        forwarded = seen["headers"].get("Authorization") == f"Bearer {mask_token(caller_token)}"
        print(f"   the upstream received the caller's own token: {'yes' if forwarded else 'no'}")
        print(f"   the upstream replays it at lesson 03's MCP server: {replay(l03_url, caller_token)} (not for it)")

        print("2. Lesson 03 exchanges it (server/exchange.py, auth_server/exchange.py: RFC 8693):")
        users_token = stage.log_in(l03_url, Path(state) / "tokens.json")
        seen = anyio.run(make_authenticated_request, l03_url, users_token)["token"]
        audience = "the upstream API" if seen["aud"] == upstream_api else seen["aud"]
        print(
            f"   the upstream received a token for {seen['sub']!r}, acted on by {seen['act']['sub']!r}, for {audience}"
        )
        print(
            f"   the user's own token, sent straight to the upstream: {replay(f'{upstream_api}/anything', users_token)}"
        )
        exchanged = httpx2.post(
            f"{issuer}/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "subject_token": users_token,
                "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "resource": upstream_api,
            },
            auth=("journal-mcp-server", "dev-resource-server-secret"),
            timeout=10,
        ).json()["access_token"]
        print(
            f"   a token exchanged for the upstream, replayed at lesson 03's MCP server: {replay(l03_url, exchanged)}"
        )


if __name__ == "__main__":
    main()
