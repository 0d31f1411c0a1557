"""Connecting the SDK's `Client` to the lesson's server, the two ways an MCP host does.

Over Streamable HTTP the token travels as an Authorization header; over stdio the client
spawns `python -m 04-observability.server` and the token travels as its API_KEY.
"""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from . import processes


def stdio_server(*extra: str, env: dict[str, str] | None = None) -> StdioServerParameters:
    """Parameters for `Client(...)` to spawn the server over stdio, logging at debug to stderr."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", f"{processes.LESSON}.server", "--transport", "stdio", "--log-level", "debug", *extra],
        cwd=processes.REPOSITORY_ROOT,
        env=env,
    )


@asynccontextmanager
async def connect(target: str | StdioServerParameters, token: str | None = None) -> AsyncIterator[Client]:
    """A connected `Client` for an MCP URL (sending `token` as a bearer header) or stdio parameters."""
    if isinstance(target, StdioServerParameters):
        async with Client(target) as client:
            yield client
        return
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(target, http_client=http)) as client,
    ):
        yield client
