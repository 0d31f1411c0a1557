"""Where the client finds its server: a subprocess over stdio, or a URL over Streamable HTTP.

`mcp.Client` picks the transport from what it is given: `StdioServerParameters`
spawns a process and speaks JSON-RPC over its stdin/stdout; a transport built
by `streamable_http_client` speaks Streamable HTTP. Everything after
`async with Client(...)` is the same for both.

The token travels the way each transport allows: an Authorization header on
every HTTP request, or the API_KEY environment variable of the spawned server.
Over HTTP it now comes from OAuth: `auth`, the SDK's provider (oauth.py), answers a 401 by logging in.
"""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from ..client_extras.hooks import event_hooks

# This package's parent, the lesson's folder: the client always spawns its own lesson's server.
LESSON = __package__.rpartition(".")[0]
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def stdio_server(log_level: str, token: str | None) -> StdioServerParameters:
    # The same interpreter and `python -m` an attendee would type, run from the
    # repository root so the lesson package is importable. The SDK gives the
    # child only a minimal environment, so the token is passed explicitly.
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", f"{LESSON}.server", "--transport", "stdio", "--log-level", log_level],
        cwd=REPOSITORY_ROOT,
        env={"API_KEY": token} if token else None,
    )


@asynccontextmanager
async def connect(
    url: str | None, log_level: str, token: str | None, auth: httpx2.Auth | None = None, verbose: bool = False
) -> AsyncIterator[Client]:
    """A connected `Client` for the server at `url`, or for a freshly spawned stdio server."""
    if not url:
        async with Client(stdio_server(log_level, token)) as client:
            yield client
        return
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    hooks = event_hooks(url, verbose, token)  # --verbose narration; a refused --token's challenge, shown
    # Headers live on the httpx2 client we own (and so must close); the SDK's
    # own timeouts: 30 s, and 300 s to read, as a server may hold a stream open.
    async with (
        httpx2.AsyncClient(headers=headers, auth=auth, event_hooks=hooks, timeout=httpx2.Timeout(30, read=300)) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client
