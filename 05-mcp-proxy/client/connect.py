"""Where the client finds the proxy: a Streamable HTTP URL, with a bearer token if the proxy wants one.

The proxy only speaks HTTP (it is a network service in front of other
servers), so unlike lesson 01's client this one never spawns anything.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from ..addresses import SERVER_ADDR

# This package's parent, the lesson's folder.
LESSON = __package__.rpartition(".")[0]
DEFAULT_URL = f"http://{SERVER_ADDR}/mcp"


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def health_url(mcp_url: str) -> str:
    """/healthz on the same host as the MCP endpoint, whichever route it is."""
    parts = urlsplit(mcp_url)
    return urlunsplit((parts.scheme, parts.netloc, "/healthz", "", ""))


@asynccontextmanager
async def connect(url: str, token: str | None) -> AsyncIterator[Client]:
    # Headers live on the httpx2 client we own (and so must close); the SDK's
    # own timeouts: 30 s, and 300 s to read, as a server may hold a stream open.
    async with (
        httpx2.AsyncClient(headers=bearer(token), timeout=httpx2.Timeout(30, read=300)) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client
