"""The scope policy: which scopes each request needs, decided in one place.

The gate asks `scopes_for` before the SDK sees a request, to answer 403 naming every scope it needs;
`require_scopes` asks again for each tool call, on both transports (on stdio, the only check).
"""

from typing import Any

from mcp.server import ServerRequestContext
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult
from mcp.types import CallToolResult, TextContent

READ, WRITE = "journal:read", "journal:write"
BASE_SCOPES = frozenset({READ})  # what any request to this server needs
TOOL_SCOPES = {"create_entry": frozenset({READ, WRITE}), "delete_entry": frozenset({READ, WRITE})}  # others: base


def scopes_for(method: Any, params: Any) -> frozenset[str]:
    """Every scope a JSON-RPC request needs: the base set, plus the tool's own for tools/call.

    `method` and `params` come straight from the wire, so any JSON type may arrive here.
    """
    name = params.get("name") if isinstance(params, dict) else None
    if method == "tools/call" and isinstance(name, str):
        return TOOL_SCOPES.get(name, BASE_SCOPES)
    return BASE_SCOPES


async def require_scopes(ctx: ServerRequestContext, call_next: CallNext) -> HandlerResult:
    """MCP middleware: a tool call goes ahead only with the scopes `scopes_for` names."""
    if ctx.method == "tools/call":
        access = get_access_token()
        if missing := scopes_for(ctx.method, ctx.params) - set(access.scopes if access else ()):
            text = f"Insufficient scope: this call needs {' '.join(sorted(missing))}"
            return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
    return await call_next(ctx)
