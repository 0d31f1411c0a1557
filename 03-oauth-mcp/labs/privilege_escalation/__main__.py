"""Privilege escalation through scopes, run twice: against one scope for the whole server, and against lesson 03's.

    python -m 03-oauth-mcp.labs.privilege_escalation

A user grants an application `journal:read`. A server that checks scopes once for all its
tools lets that token write too. Lesson 03 decides the scopes per tool (server/scopes.py,
`scopes_for`), answers a call that lacks one with 403 `insufficient_scope` naming what it
needs (server/gate.py), and its client then asks the user again: a step-up, not a silent
escalation. Everything runs on 127.0.0.1 and stops at the end.
"""

import json
import re
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from importlib import import_module

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

LESSON = "03-oauth-mcp"
stage = import_module(f"{LESSON}.labs.stage")
BOT = ("journal-bot", "dev-journal-bot-secret")  # a development machine client the authorization server seeds


async def create_entry(mcp_url: str, token: str) -> str:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(mcp_url, http_client=http)) as client,
    ):
        result = await client.call_tool("create_entry", {"title": "sneaky", "content": "written with a read grant"})
        return result.content[0].text


def read_only_token(issuer: str, resource: str) -> str:
    data = {"grant_type": "client_credentials", "resource": resource, "scope": "journal:read"}
    return httpx2.post(f"{issuer}/token", data=data, auth=BOT, timeout=10).json()["access_token"]


def step_up(mcp_url: str, state: str) -> None:
    """Lesson 03's client, asked to write with no token yet: print what the user is asked, each time."""
    command = [sys.executable, "-m", f"{LESSON}.client", "--url", mcp_url, "--no-browser", "--token-file"]
    command += [f"{state}/tokens.json", "--callback-port", str(stage.free_port())]
    command += ["call", "create_entry", "title=Step-up", "content=asked for"]
    with subprocess.Popen(command, cwd=stage.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as client:
        for line in client.stderr:
            if line.startswith("  http"):
                asked = stage.the_user_logs_in(line.strip())
                print(f"   the client sends the user to the consent page, which asks for: {asked}")
        written = json.loads(client.stdout.read().split("structured: ", 1)[1])
        print(f"   the call: created entry {written['id']} ({written['title']!r}), with the user's consent to write")


def main() -> None:
    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        issuer_port, naive_port, lesson_port = stage.free_port(), stage.free_port(), stage.free_port()
        naive_url, lesson_url = f"http://127.0.0.1:{naive_port}/mcp", f"http://127.0.0.1:{lesson_port}/mcp"
        issuer = stack.enter_context(
            stage.running(
                f"{LESSON}.auth_server",
                issuer_port,
                "--db",
                f"{state}/auth.db",
                "--resource",
                naive_url,
                "--resource",
                lesson_url,
            )
        )
        stack.enter_context(
            stage.running(
                f"{LESSON}.labs.privilege_escalation.vulnerable",
                naive_port,
                "--issuer",
                issuer,
                "--db",
                f"{state}/a.db",
            )
        )
        stack.enter_context(stage.running(f"{LESSON}.server", lesson_port, "-t", "http", "--issuer", issuer))

        print("Privilege escalation: a token granted journal:read calls create_entry, which writes.")
        print("1. One scope check for the whole server (labs/privilege_escalation/vulnerable.py):")
        print(f"   the call: {anyio.run(create_entry, naive_url, read_only_token(issuer, naive_url))}")
        print("2. Lesson 03: scopes per tool (server/scopes.py scopes_for), checked by the gate (server/gate.py):")
        refused = httpx2.post(
            lesson_url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "create_entry"}},
            headers={
                "Authorization": f"Bearer {read_only_token(issuer, lesson_url)}",
                "Accept": "application/json, text/event-stream",
            },
            timeout=10,
        )
        challenge = dict(re.findall(r'(\w+)="([^"]*)"', refused.headers["www-authenticate"]))
        print(f'   the call: HTTP {refused.status_code}, error="{challenge["error"]}", scope="{challenge["scope"]}"')
        print("3. Lesson 03's client meets that 403 with a step-up (the SDK's provider, client/oauth.py):")
        step_up(lesson_url, state)


if __name__ == "__main__":
    main()
