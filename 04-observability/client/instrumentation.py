"""Client-side telemetry: a span for the whole command, and `mcp.client.operation.duration`.

The SDK already does the tracing that crosses the wire: each request it sends
gets a CLIENT span (`MCP send tools/call <tool>`) whose trace context goes into
the request's `_meta`, on stdio as on HTTP, so the server's span becomes its
child. What it has no hook for is metrics: there is no client middleware, so
the calls are timed here, one wrapper around the two calls this client makes.
"""

import time
from collections.abc import Awaitable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from mcp import Client, MCPError
from mcp.types import CallToolResult, ListToolsResult
from opentelemetry import metrics

# The conventions' advisory buckets, in seconds, the same as the server's.
DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]

meter = metrics.get_meter(__name__)
operation_duration = meter.create_histogram(
    "mcp.client.operation.duration",
    unit="s",
    description="Time from sending an MCP request to receiving its response.",
    explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
)

ResultT = TypeVar("ResultT")


class TimedClient:
    """A `Client` whose calls are recorded in `mcp.client.operation.duration`."""

    def __init__(self, client: Client, url: str | None) -> None:
        self.client = client
        self.attributes = transport_attributes(url) | {"mcp.protocol.version": client.protocol_version}

    async def list_tools(self) -> ListToolsResult:
        return await self.timed(self.client.list_tools(), {"mcp.method.name": "tools/list"})

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> CallToolResult:
        tool = {"mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
        return await self.timed(self.client.call_tool(name, arguments), tool)

    async def timed(self, call: Awaitable[ResultT], attributes: dict[str, Any]) -> ResultT:
        attributes = self.attributes | attributes
        start = time.perf_counter()
        try:
            result = await call
        except MCPError as error:  # a JSON-RPC error response: its code, as the conventions say
            attributes["error.type"] = str(error.code)
            raise
        except Exception as error:
            attributes["error.type"] = type(error).__qualname__
            raise
        else:
            # A tool that failed answers with a result, not an error: the SDK's span stays UNSET, the metric says it.
            if isinstance(result, CallToolResult) and result.is_error:
                attributes["error.type"] = "tool_error"
            return result
        finally:
            operation_duration.record(time.perf_counter() - start, attributes)


def transport_attributes(url: str | None) -> dict[str, Any]:
    if not url:
        return {"network.transport": "pipe"}  # stdio: the server is our child process
    parts = urlsplit(url)
    return {
        "network.transport": "tcp",
        "network.protocol.name": "http",
        "server.address": parts.hostname or "",
        "server.port": parts.port or (443 if parts.scheme == "https" else 80),
    }
