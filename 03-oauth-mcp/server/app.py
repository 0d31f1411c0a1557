"""The MCP server and its tools.

The SDK reads each tool's name from the function, its description from the
docstring and its JSON Schema from the type hints: there is no schema to write
by hand, and arguments that do not match it never reach the function.

The tools of this lesson act for the *verified* caller: `get_access_token()`
returns the token the gate (HTTP) or the startup check (stdio) verified, and
its `sub` decides whose journal a tool reads. Each tool names the scopes it
needs in TOOL_SCOPES, which the gate also uses to answer 403 before the call.
"""

import logging
from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from .context import assign_request_id
from .journal import Entry, Journal

SERVER_NAME = "oauth-mcp"
SERVER_VERSION = "0.1.0"

READ, WRITE = "journal:read", "journal:write"
BASE_SCOPES = {READ}  # what any request to this server needs
TOOL_SCOPES = {"create_entry": {READ, WRITE}, "delete_entry": {READ, WRITE}}  # the rest: BASE_SCOPES

logger = logging.getLogger(__name__)


class Identity(BaseModel):
    """Who the verified token says is calling."""

    subject: str
    client_id: str
    scopes: list[str]
    expires_at: int | None


class TokenView(BaseModel):
    """The verified token: its claims, and the token itself masked."""

    token: str
    claims: dict[str, Any]


def scopes_for(message: dict) -> set[str]:
    """Every scope a JSON-RPC message needs: the base set, plus the tool's own for tools/call."""
    if message.get("method") == "tools/call":
        return TOOL_SCOPES.get((message.get("params") or {}).get("name"), BASE_SCOPES)
    return BASE_SCOPES


def mask_token(token: str) -> str:
    """Enough of a token to recognise it, never enough to use it."""
    return f"{token[:6]}****{token[-2:]}" if len(token) > 8 else "****"


def require_caller(tool: str) -> AccessToken:
    """The verified caller, if its token carries the tool's scopes (checked again here for stdio)."""
    caller = get_access_token()
    if caller is None or caller.subject is None:
        raise ToolError("No verified identity: call over HTTP with an access token, or set API_KEY on stdio.")
    if missing := TOOL_SCOPES.get(tool, BASE_SCOPES) - set(caller.scopes):
        raise ToolError(f"Insufficient scope: {tool} needs {' '.join(sorted(missing))}")
    return caller


def create_server(journal: Journal) -> MCPServer:
    """Build the server. One factory serves both transports and every test."""
    mcp = MCPServer(
        SERVER_NAME,
        version=SERVER_VERSION,
        instructions="A personal journal: each user reads and writes only their own entries.",
        middleware=[assign_request_id],
    )

    @mcp.tool()
    def echo_message(
        message: Annotated[str, Field(description="The message to echo back in the response.")],
    ) -> str:
        """Return the message prefixed with 'Echo: '. Useful to check that the server answers."""
        return f"Echo: {message}"

    @mcp.tool()
    def add_numbers(
        num1: Annotated[float, Field(description="The first number to add.")],
        num2: Annotated[float, Field(description="The second number to add.")],
    ) -> float:
        """Calculate the sum of two numbers."""
        return num1 + num2

    @mcp.tool()
    def show_auth_token() -> TokenView:
        """Show the verified claims of the caller's access token, with the token itself masked."""
        caller = require_caller("show_auth_token")
        return TokenView(token=mask_token(caller.token), claims=caller.claims or {})

    @mcp.tool()
    def whoami() -> Identity:
        """Who you are to this server: the verified subject, client and scopes."""
        caller = require_caller("whoami")
        return Identity(
            subject=caller.subject or "", client_id=caller.client_id, scopes=caller.scopes, expires_at=caller.expires_at
        )

    @mcp.tool()
    def create_entry(
        title: Annotated[str, Field(description="The entry's title.", min_length=1, max_length=200)],
        content: Annotated[str, Field(description="The entry's text.", max_length=10_000)],
        tags: Annotated[list[str], Field(description="Tags to file the entry under.")] = [],  # noqa: B006 -- only read, never mutated
    ) -> Entry:
        """Write a new journal entry (needs journal:write)."""
        caller = require_caller("create_entry")
        entry = journal.create(caller.subject or "", title, content, tags)
        logger.info("%s created entry %d", caller.subject, entry.id)
        return entry

    @mcp.tool()
    def list_entries() -> list[Entry]:
        """List your journal entries, oldest first."""
        return journal.list(require_caller("list_entries").subject or "")

    @mcp.tool()
    def get_entry(id: Annotated[int, Field(description="The entry's id, as list_entries shows it.")]) -> Entry:
        """Read one of your journal entries."""
        entry = journal.get(require_caller("get_entry").subject or "", id)
        if entry is None:
            raise ToolError(f"No entry {id} in your journal")  # whether it exists for someone else: not said
        return entry

    @mcp.tool()
    def delete_entry(id: Annotated[int, Field(description="The entry's id.")]) -> str:
        """Delete one of your journal entries (needs journal:write)."""
        caller = require_caller("delete_entry")
        if not journal.delete(caller.subject or "", id):
            raise ToolError(f"No entry {id} in your journal")
        logger.info("%s deleted entry %d", caller.subject, id)
        return f"Deleted entry {id}"

    return mcp
