"""A real MCP client session to the proxy: the SDK `Client` over Streamable HTTP, with a bearer token.

`mode="legacy"` gives a handshake-era session (the one that can answer a backend's questions);
the default is a 2026-07-28 client.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

# Every page of tools/list, the way the lesson's own client follows nextCursor.
from ...client.__main__ import all_tools as every_tool


@asynccontextmanager
async def connect(url: str, token: str | None = None, **options: Any) -> AsyncIterator[Client]:
    """`async with connect(proxy.mcp_url, token, mode="legacy") as client:`."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http), **options) as client,
    ):
        yield client


async def tool_names(client: Client) -> set[str]:
    return {tool.name for tool in await every_tool(client)}


def text(result: CallToolResult) -> str:
    """A tool result's text, as a model would read it."""
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))
