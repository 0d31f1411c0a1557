"""Privilege escalation through scopes, run twice: against one scope for the whole server, and against lesson 03's.

    python -m 03-oauth-mcp.labs.privilege_escalation

A user grants an application `journal:read`. A server that checks scopes once for all its
tools lets that token write too. Lesson 03 decides the scopes per tool (server/scopes.py,
`scopes_for`), answers a call that lacks one with 403 `insufficient_scope` naming what it
needs (server/gate.py), and its client then asks the user again: a step-up, not a silent
escalation. The vulnerable variant runs as a process of its own; the authorization server and
lesson 03's MCP server and client run in the lab's process. Everything runs on 127.0.0.1 and
stops at the end.
"""

import re
import tempfile
import threading
from contextlib import ExitStack
from importlib import import_module
from pathlib import Path

LESSON = "03-oauth-mcp"
stage = import_module(f"{LESSON}.labs.stage")
BOT = ("journal-bot", "dev-journal-bot-secret")  # a development machine client the authorization server seeds


def read_only_token(issuer: str, resource: str) -> str:
    data = {"grant_type": "client_credentials", "resource": resource, "scope": "journal:read"}
    return stage.http().post(f"{issuer}/token", data=data, auth=BOT).json()["access_token"]


async def create_entry(mcp_url: str, token: str) -> str:
    async with stage.session(mcp_url, token) as client:
        answer = await stage.said(client, "create_entry", title="sneaky", content="written with a read grant")
    return f"created entry {answer['id']}" if isinstance(answer, dict) else answer


async def step_up(mcp_url: str, token_file: Path) -> str:
    """Lesson 03's client, asked to write with no token yet: each consent page is printed as the user reads it."""
    callback = import_module(f"{LESSON}.client.callback")
    oauth = import_module(f"{LESSON}.client.oauth")
    storage = import_module(f"{LESSON}.client.token_storage").FileTokenStorage(token_file, mcp_url)

    asked: list[str] = []  # what each consent page asked for, as the user read it

    async def open_page(url: str) -> None:  # the browser goes its own way, while the client waits
        threading.Thread(target=lambda: asked.append(stage.the_user_logs_in(url)), daemon=True).start()

    provider = oauth.CheckedOAuthProvider(mcp_url, storage, callback.LoopbackCallback(0), open_page=open_page)
    async with stage.signed_in(mcp_url, provider) as client:
        written = await stage.said(client, "create_entry", title="Step-up", content="asked for")
    for scope in asked:
        print(f"   the client sends the user to the consent page, which asks for: {scope}")
    return f"created entry {written['id']} ({written['title']!r}), with the user's consent to write"


def main() -> None:
    print("Privilege escalation: a token granted journal:read calls create_entry, which writes.", flush=True)
    import anyio  # imported only now: the lab has said what it does

    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        issuer_port, naive_port, lesson_port = stage.free_port(), stage.free_port(), stage.free_port()
        issuer = f"http://127.0.0.1:{issuer_port}"
        naive_url, lesson_url = f"http://127.0.0.1:{naive_port}/mcp", f"http://127.0.0.1:{lesson_port}/mcp"
        naive = (
            f"{LESSON}.labs.privilege_escalation.vulnerable",
            naive_port,
            "--issuer",
            issuer,
            "--db",
            f"{state}/a.db",
        )
        started = stack.enter_context(stage.launched(naive))
        servers = [
            (stage.authorization_server(issuer, Path(state) / "auth.db", naive_url, lesson_url), issuer_port),
            (stage.mcp_server(issuer, lesson_url), lesson_port),
        ]
        stack.enter_context(stage.serving(*servers))
        started.wait_until_healthy()

        print("1. One scope check for the whole server (labs/privilege_escalation/vulnerable.py):")
        written = anyio.run(create_entry, naive_url, read_only_token(issuer, naive_url))
        print(f"   the call: {written}")
        stage.verdict("a token granted journal:read wrote a journal entry" if written.startswith("created") else None)

        print("2. Lesson 03: scopes per tool (server/scopes.py scopes_for), checked by the gate (server/gate.py):")
        refused = stage.http().post(
            lesson_url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "create_entry"}},
            headers={
                "Authorization": f"Bearer {read_only_token(issuer, lesson_url)}",
                "Accept": "application/json, text/event-stream",
            },
        )
        challenge = dict(re.findall(r'(\w+)="([^"]*)"', refused.headers["www-authenticate"]))
        print(f'   the call: HTTP {refused.status_code}, error="{challenge["error"]}", scope="{challenge["scope"]}"')
        print("   lesson 03's client meets that 403 with a step-up (the SDK's provider, client/oauth.py):")
        print(f"   the call: {anyio.run(step_up, lesson_url, Path(state) / 'tokens.json')}")
        stage.verdict(
            "the read-only token wrote" if refused.status_code != 403 else None,
            "scopes per tool (server/scopes.py, gate.py)",
            "the read-only token was refused with 403 insufficient_scope, and writing took the user's consent",
        )


if __name__ == "__main__":
    main()
