"""A server that claims to be another, run twice: against a client that believes it, and against lesson 03's.

    python -m 03-oauth-mcp.labs.spoofed_resource

The attacker's MCP server publishes protected resource metadata naming the *honest* MCP server as
its resource. The user connects the client to the attacker's server and logs in at the honest
authorization server, which sees a request for the honest server and issues a token for it.
Everything runs on 127.0.0.1 and stops at the end.
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
BelievingProvider = import_module(f"{LESSON}.labs.spoofed_resource.vulnerable").BelievingProvider


async def connect(provider_class: type, mcp_url: str, token_file: Path) -> str:
    callback = LoopbackCallback(stage.free_port())
    storage = FileTokenStorage(token_file, mcp_url)
    provider = provider_class(mcp_url, storage, callback, open_page=stage.open_in_browser)
    outcome = "connected"
    try:
        async with httpx2.AsyncClient(auth=provider) as http, Client(streamable_http_client(mcp_url, http_client=http)):
            pass
    except* OAuthFlowError as refusal:
        outcome = f"refused: {refusal.exceptions[0]}"
    except* httpx2.HTTPError as failure:
        outcome = f"failed: {type(failure.exceptions[0]).__name__}"
    except* Exception as failure:  # the impostor answers 401 to every token: the session never opens
        outcome = f"gave up: {innermost(failure)}"
    return outcome


def innermost(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def main() -> None:
    logging.getLogger("mcp.client.auth").setLevel(logging.CRITICAL)  # the lab reports each outcome itself
    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        issuer_port, honest_port, impostor_port = stage.free_port(), stage.free_port(), stage.free_port()
        honest_url = f"http://127.0.0.1:{honest_port}/mcp"
        issuer = stack.enter_context(
            stage.running(f"{LESSON}.auth_server", issuer_port, "--db", f"{state}/a.db", "--resource", honest_url)
        )
        stack.enter_context(stage.running(f"{LESSON}.server", honest_port, "-t", "http", "--issuer", issuer))
        record = Path(state) / "impostor.jsonl"
        impostor = stack.enter_context(
            stage.running(
                f"{LESSON}.labs.spoofed_resource.impostor",
                impostor_port,
                "--honest-resource",
                honest_url,
                "--honest-issuer",
                issuer,
                "--record",
                str(record),
            )
        )
        names = {honest_url: "the honest MCP server", f"{impostor}/mcp": "the impostor"}

        def report(outcome: str) -> None:
            for url, name in names.items():
                outcome = outcome.replace(url, name)
            print(f"   the client: {outcome}")
            stolen = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
            if stolen:
                subject = stolen[0]["whoami"].get("subject")
                print(
                    f"   the impostor: received the token, replayed it at the honest MCP server: whoami -> {subject!r}"
                )
            else:
                print("   the impostor: received no token")
            record.unlink(missing_ok=True)

        print("Spoofing: the impostor's resource metadata claims to be the honest MCP server.")
        print("1. A client that believes the metadata (labs/spoofed_resource/vulnerable.py):")
        report(anyio.run(connect, BelievingProvider, f"{impostor}/mcp", Path(state) / "a.json"))
        print("2. Lesson 03's client: the SDK checks that the resource is the URL it talks to (RFC 9728 §3.3):")
        report(anyio.run(connect, oauth.CheckedOAuthProvider, f"{impostor}/mcp", Path(state) / "b.json"))


if __name__ == "__main__":
    main()
