"""An MCP client of either protocol era, with an access token in hand: what reaches the replicas.

`mcp.Client` negotiates by itself (`mode="auto"`): against this lesson's server it speaks
2026-07-28, where every request stands alone and carries its own `MCP-Protocol-Version`.
`mode="legacy"` forces the initialize handshake of the versions up to 2025-11-25: the server
answers with an `Mcp-Session-Id`, and a stateful server keeps that session in its own memory.
"""

from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


def tool_results(url: str, token: str, calls: list[tuple[str, dict[str, Any]]], mode: str = "auto") -> list[Any]:
    """Make `calls` (tool name, arguments) one after another in one client; each result's structured content."""

    async def run() -> list[Any]:
        headers = {"Authorization": f"Bearer {token}"}
        with anyio.fail_after(30):  # a client stuck on a lost session fails instead of hanging
            return await calls_in_one_client(headers)

    async def calls_in_one_client(headers: dict[str, str]) -> list[Any]:
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(10)) as http,
            Client(streamable_http_client(url, http_client=http), mode=mode) as client,
        ):
            results = []
            for name, arguments in calls:
                result = await client.call_tool(name, arguments)
                assert not result.is_error, result.content
                results.append(result.structured_content)
            return results

    return anyio.run(run)
