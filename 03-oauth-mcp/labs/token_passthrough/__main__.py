"""Token passthrough (the confused deputy), run twice: lesson 02 forwarding its caller's token to an upstream
API, and lesson 03 exchanging it for a token issued to that API (RFC 8693).

    python -m 03-oauth-mcp.labs.token_passthrough

Lesson 02 is the vulnerable variant here, as it is in the workshop: it teaches how a token reaches
a tool, and why forwarding it is forbidden. Its upstream receives the caller's own token, which
it could replay wherever that token works. Lesson 03's server never forwards a token: it trades
its caller's for one whose audience is the upstream, whose subject is still the user, and which
names the MCP server as the actor; and it refuses every token issued for another audience. The
servers run in the lab's own process, on 127.0.0.1, and stop at the end.
"""

import re
import tempfile
from contextlib import ExitStack
from importlib import import_module
from pathlib import Path

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
    async with stage.session(mcp_url, token) as client:
        return await stage.said(client, "make_authenticated_request", message="hello upstream")


def replay(url: str, token: str) -> str:
    """Send `token` to `url` as its bearer: what comes back, in a few words."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    answer = stage.http().post(url, json=INITIALIZE, headers=headers)
    error = re.search(r'error="([^"]+)"', answer.headers.get("www-authenticate", ""))
    return f"HTTP {answer.status_code}" + (f' error="{error.group(1)}"' if error else "")


def lesson_02(upstream_url: str) -> tuple:
    """Lesson 02's MCP server and echo upstream, as `python -m 02-basic-token-passthrough.server -t http` and
    `python -m 02-basic-token-passthrough.upstream` make them."""
    server = import_module("02-basic-token-passthrough.server.app").create_server(upstream_url)
    app = import_module("02-basic-token-passthrough.server.http").create_http_app(server)
    return app, import_module("02-basic-token-passthrough.upstream.app").app


def main() -> None:
    print("Token passthrough: an MCP server calls an upstream API for its caller.", flush=True)
    import anyio  # imported only now: the lab has said what it does

    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        ports = {name: stage.free_port() for name in ("issuer", "l02", "l02_upstream", "l03", "l03_upstream")}
        issuer = f"http://127.0.0.1:{ports['issuer']}"
        l02_url, l03_url = f"http://127.0.0.1:{ports['l02']}/mcp", f"http://127.0.0.1:{ports['l03']}/mcp"
        upstream_api = f"http://127.0.0.1:{ports['l03_upstream']}"
        verifier = import_module(f"{LESSON}.server.verifier").JWTVerifier
        Issuer = import_module(f"{LESSON}.server.issuer").Issuer
        l02, l02_upstream = lesson_02(f"http://127.0.0.1:{ports['l02_upstream']}/anything")
        l03_upstream = import_module(f"{LESSON}.upstream.app").create_app(verifier(Issuer(issuer), upstream_api))
        authorization = stage.authorization_server(
            issuer, Path(state) / "auth.db", l03_url, l02_url, upstreams=(upstream_api,)
        )
        servers = [
            (authorization, ports["issuer"]),
            (l02, ports["l02"]),
            (l02_upstream, ports["l02_upstream"]),
            (stage.mcp_server(issuer, l03_url, upstream_url=f"{upstream_api}/anything"), ports["l03"]),
            (l03_upstream, ports["l03_upstream"]),
        ]
        stack.enter_context(stage.serving(*servers))

        print("1. Lesson 02 forwards its caller's token (02-basic-token-passthrough/server/app.py):")
        data = {"grant_type": "client_credentials", "resource": l02_url, "scope": "journal:read"}
        caller_token = stage.http().post(f"{issuer}/token", data=data, auth=BOT).json()["access_token"]
        seen = anyio.run(make_authenticated_request, l02_url, caller_token)
        forwarded = seen["headers"].get("Authorization") == f"Bearer {mask_token(caller_token)}"
        print(f"   the upstream received the caller's own token: {'yes' if forwarded else 'no'}")
        stage.verdict(
            "the upstream API holds the caller's own token, to replay wherever it works" if forwarded else None
        )

        print("2. Lesson 03 exchanges it (server/exchange.py, auth_server/exchange.py: RFC 8693):")
        users_token = stage.user_token(issuer, l03_url, "alice", scope="journal:read")
        seen = anyio.run(make_authenticated_request, l03_url, users_token)["token"]
        audience = "the upstream API" if seen["aud"] == upstream_api else seen["aud"]
        print(
            f"   the upstream received a token for {seen['sub']!r}, acted on by {seen['act']['sub']!r}, for {audience}"
        )
        exchanged = (
            stage.http()
            .post(
                f"{issuer}/token",
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                    "subject_token": users_token,
                    "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
                    "resource": upstream_api,
                },
                auth=stage.RESOURCE_SERVER,
            )
            .json()["access_token"]
        )
        refused = [
            replay(l03_url, exchanged),
            replay(l03_url, caller_token),
            replay(f"{upstream_api}/anything", users_token),
        ]
        print(f"   that token, replayed at lesson 03's MCP server: {refused[0]} (issued for the upstream)")
        print(f"   the caller's token of run 1, at lesson 03's MCP server: {refused[1]} (issued for lesson 02's)")
        print(f"   the user's own token, sent straight to the upstream: {refused[2]} (issued for the MCP server)")
        stage.verdict(
            None if all(answer.startswith("HTTP 401") for answer in refused) else "a token worked where it was not for",
            "token exchange and audience checks (server/exchange.py, server/verifier.py)",
            "the upstream never saw the caller's token, and each token worked only where it was issued for",
        )


if __name__ == "__main__":
    main()
