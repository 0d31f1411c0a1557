"""The mix-up attack (RFC 9207), run twice: against a client that does not check `iss`, and against lesson 03's.

    python -m 03-oauth-mcp.labs.mix_up

An MCP client trusts a different authorization server for each MCP server it uses, so one of
them may be the attacker's. It starts the lesson's authorization server and MCP server (the
honest ones) and the attacker's MCP server with its authorization server (evil_as.py), then
plays a user who connects the client to the attacker's MCP server and logs in, at the honest
login page. Everything runs on 127.0.0.1 and stops at the end.
"""

import json
import logging
import tempfile
from contextlib import ExitStack
from importlib import import_module
from pathlib import Path

import anyio
import httpx2
from mcp import Client
from mcp.client.auth import OAuthFlowError
from mcp.client.streamable_http import streamable_http_client

LESSON = "03-oauth-mcp"
stage = import_module(f"{LESSON}.labs.stage")
oauth = import_module(f"{LESSON}.client.oauth")
LoopbackCallback = import_module(f"{LESSON}.client.callback").LoopbackCallback
FileTokenStorage = import_module(f"{LESSON}.client.token_storage").FileTokenStorage
AssumingProvider = import_module(f"{LESSON}.labs.mix_up.vulnerable").AssumingProvider


async def connect(provider_class: type, mcp_url: str, token_file: Path, callback_port: int) -> str:
    """The client connects to `mcp_url`, the user logging in when asked; what happened, in a few words."""
    callback = LoopbackCallback(callback_port)
    storage = FileTokenStorage(token_file, mcp_url)
    provider = provider_class(mcp_url, storage, callback, open_page=stage.open_in_browser)
    outcome = "connected"
    try:
        async with httpx2.AsyncClient(auth=provider) as http, Client(streamable_http_client(mcp_url, http_client=http)):
            pass
    except* OAuthFlowError as refusal:
        outcome = f"refused: {refusal.exceptions[0]}"
    except* httpx2.HTTPError as failure:  # the attacker's /token answers with an error
        outcome = f"failed: {type(failure.exceptions[0]).__name__}"
    return outcome


def main() -> None:
    logging.getLogger("mcp.client.auth").setLevel(logging.CRITICAL)  # the lab reports each outcome itself
    callback_port = stage.free_port()
    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        honest_port, resource_port, evil_port = stage.free_port(), stage.free_port(), stage.free_port()
        honest_resource = f"http://127.0.0.1:{resource_port}/mcp"
        honest = stack.enter_context(
            stage.running(
                f"{LESSON}.auth_server", honest_port, "--db", f"{state}/auth.db", "--resource", honest_resource
            )
        )
        stack.enter_context(stage.running(f"{LESSON}.server", resource_port, "--transport", "http", "--issuer", honest))
        record = Path(state) / "attacker.jsonl"
        evil = stack.enter_context(
            stage.running(
                f"{LESSON}.labs.mix_up.evil_as",
                evil_port,
                "--honest-issuer",
                honest,
                "--honest-resource",
                honest_resource,
                "--victim-redirect-uri",
                f"http://127.0.0.1:{callback_port}/callback",
                "--record",
                str(record),
            )
        )
        names = {honest: "the honest server", evil: "the attacker's server"}

        def report(outcome: str) -> None:
            for url, name in names.items():
                outcome = outcome.replace(url, name)
            print(f"   the client: {outcome}")
            events = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
            if not events:
                print("   the attacker: received no authorization code")
            for event in events:
                details = f" as {event['whoami']['subject']!r}" if "whoami" in event else ""
                print(f"   the attacker: {event['event']}{details}")
            record.unlink(missing_ok=True)

        print("Mix-up: the user connects the client to the attacker's MCP server and logs in at the honest server.")
        print("1. A client that assumes the code came from the server it sent the user to (labs/mix_up/vulnerable.py):")
        report(anyio.run(connect, AssumingProvider, f"{evil}/mcp", Path(state) / "a.json", callback_port))
        print("2. Lesson 03's client (client/oauth.py): the SDK compares `iss` with the issuer it expected:")
        report(anyio.run(connect, oauth.CheckedOAuthProvider, f"{evil}/mcp", Path(state) / "b.json", callback_port))


if __name__ == "__main__":
    main()
