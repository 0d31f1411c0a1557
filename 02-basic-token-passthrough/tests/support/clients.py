"""A caller of lesson 02's HTTP server: the SDK `Client`, its token in an `Authorization: Bearer` header.

Over stdio a caller's token travels in the spawned server's API_KEY instead: see `processes.stdio_server`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


@asynccontextmanager
async def connect(url: str, token: str | None = None) -> AsyncIterator[Client]:
    """A connected `Client` for the MCP endpoint at `url`, sending `token` (if any) with every request."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client
