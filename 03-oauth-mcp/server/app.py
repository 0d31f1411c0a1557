"""The MCP server and its tools.

The SDK reads each tool's name from the function, its description from the
docstring and its JSON Schema from the type hints: there is no schema to write
by hand, and arguments that do not match it never reach the function.

The tools of this lesson act for the *verified* caller: `caller()` returns the
identity from the token the gate (HTTP) or the startup check (stdio) verified,
and its subject decides whose journal a tool reads. Which scopes a request needs
is decided in one place, `scopes_for`: the HTTP gate uses it to answer 403 with a
challenge before the request reaches the SDK, and `require_scopes` applies it to
every tool call on both transports (on stdio it is the only check). The
upstream is called with one HTTP client for the server's whole life
(`upstream_client`), shared by every caller.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Annotated, Any

import httpx2
from mcp.server import MCPServer, ServerRequestContext
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from ..safe_output import mask_token
from .answers import UnreadableAnswer, read_answer
from .context import assign_request_id
from .exchange import ExchangeRefused, TokenExchanger
from .journal import Entry, Journal

SERVER_NAME = "oauth-mcp"
SERVER_VERSION = "0.1.0"
DEFAULT_UPSTREAM_URL = "http://127.0.0.1:8097/anything"
UPSTREAM_TIMEOUT_SECONDS = 10.0

READ, WRITE = "journal:read", "journal:write"
BASE_SCOPES = frozenset({READ})  # what any request to this server needs
TOOL_SCOPES = {"create_entry": frozenset({READ, WRITE}), "delete_entry": frozenset({READ, WRITE})}  # others: base

logger = logging.getLogger(__name__)


def scopes_for(method: Any, params: Any) -> frozenset[str]:
    """Every scope a JSON-RPC request needs: the base set, plus the tool's own for tools/call.

    `method` and `params` come straight from the wire, so any JSON type may arrive here.
    """
    name = params.get("name") if isinstance(params, dict) else None
    if method == "tools/call" and isinstance(name, str):
        return TOOL_SCOPES.get(name, BASE_SCOPES)
    return BASE_SCOPES


@dataclass(frozen=True)
class Caller:
    """The verified caller of the current request."""

    subject: str
    client_id: str
    scopes: frozenset[str]
    expires_at: int | None
    token: str
    claims: dict[str, Any]


def caller() -> Caller:
    """Who the verified token says is calling; a tool error if no token was verified."""
    access = get_access_token()
    if access is None or not access.subject:
        raise ToolError("No verified identity: call over HTTP with an access token, or set API_KEY on stdio.")
    return Caller(
        subject=access.subject,
        client_id=access.client_id,
        scopes=frozenset(access.scopes),
        expires_at=access.expires_at,
        token=access.token,
        claims=access.claims or {},
    )


async def require_scopes(ctx: ServerRequestContext, call_next: CallNext) -> HandlerResult:
    """MCP middleware: a tool call goes ahead only with the scopes `scopes_for` names."""
    if ctx.method == "tools/call":
        access = get_access_token()
        if missing := scopes_for(ctx.method, ctx.params) - set(access.scopes if access else ()):
            text = f"Insufficient scope: this call needs {' '.join(sorted(missing))}"
            return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
    return await call_next(ctx)


class Identity(BaseModel):
    """Who the verified token says is calling."""

    subject: str
    client_id: str
    scopes: list[str]
    expires_at: int | None


class UpstreamEcho(BaseModel):
    """What the upstream API saw: the query arguments, the headers of our request, and whom its token names."""

    args: dict[str, str | list[str]]
    headers: dict[str, str]
    token: dict[str, Any]


@dataclass(frozen=True)
class Upstream:
    """The upstream API this server calls for its users, and how it gets a token for each call."""

    url: str
    audience: str  # the resource the upstream's tokens must be issued for
    exchanger: TokenExchanger


class TokenView(BaseModel):
    """The verified token: its claims, and the token itself masked."""

    token: str
    claims: dict[str, Any]


@asynccontextmanager
async def upstream_client(server: MCPServer) -> AsyncIterator[httpx2.AsyncClient]:
    """The server's lifespan: one HTTP client for every upstream call, closed when the server stops.

    A client is costly to make (about 20 ms of CPU, mostly its TLS settings), and it
    keeps connections to the upstream open for the next call: made per call, it would
    cost more than the call. Shared by every caller, it must carry nothing of one caller's
    into another's request: the token goes in each request's headers, never the
    client's, and the client keeps no cookies (httpx2 would keep whatever an upstream
    sets, and send it with everyone's calls from then on).
    """
    no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))  # no domain may set one
    async with httpx2.AsyncClient(timeout=UPSTREAM_TIMEOUT_SECONDS, cookies=no_cookies) as http:
        yield http


def create_server(journal: Journal, upstream: Upstream | None = None) -> MCPServer:
    """Build the server. One factory serves both transports and every test."""
    mcp = MCPServer(
        SERVER_NAME,
        version=SERVER_VERSION,
        instructions="A personal journal: each user reads and writes only their own entries.",
        middleware=[assign_request_id, require_scopes],
        lifespan=upstream_client,
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
    async def make_authenticated_request(
        message: Annotated[str, Field(description="The message to send as the 'message' query parameter.")],
        ctx: Context,
    ) -> UpstreamEcho:
        """Call the upstream API as you, with a token issued to it for you (never your own token), and
        return what it saw."""
        you = caller()
        if upstream is None:
            raise ToolError("No upstream API is configured (--upstream-url)")
        http: httpx2.AsyncClient = ctx.request_context.lifespan_context  # what upstream_client yielded
        try:
            # RFC 8693: the caller's token is traded for one whose audience is the upstream.
            token = await upstream.exchanger.token_for(upstream.audience, you.token)
        except ExchangeRefused as refusal:
            raise ToolError(f"Cannot call the upstream API for you: {refusal}") from None
        try:
            async with http.stream(
                "GET", upstream.url, params={"message": message}, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                if response.is_error:
                    raise ToolError(f"Upstream {upstream.url} answered {response.status_code} {response.reason_phrase}")
                return await read_answer(response, UpstreamEcho)  # within bounds, of its shape (answers.py)
        except httpx2.HTTPError as error:
            raise ToolError(f"Upstream {upstream.url} unreachable: {type(error).__name__}") from None
        except UnreadableAnswer as problem:
            raise ToolError(f"Upstream {upstream.url} answered {problem}") from None

    @mcp.tool()
    def show_auth_token() -> TokenView:
        """Show the verified claims of the caller's access token, with the token itself masked."""
        you = caller()
        return TokenView(token=mask_token(you.token), claims=you.claims)

    @mcp.tool()
    def whoami() -> Identity:
        """Who you are to this server: the verified subject, client and scopes."""
        you = caller()
        return Identity(
            subject=you.subject, client_id=you.client_id, scopes=sorted(you.scopes), expires_at=you.expires_at
        )

    @mcp.tool()
    def create_entry(
        title: Annotated[str, Field(description="The entry's title.", min_length=1, max_length=200)],
        content: Annotated[str, Field(description="The entry's text.", max_length=10_000)],
        tags: Annotated[list[str], Field(default_factory=list, description="Tags to file the entry under.")],
    ) -> Entry:
        """Write a new journal entry (needs journal:write)."""
        you = caller()
        entry = journal.create(you.subject, title, content, tags)
        logger.info("%s created entry %d", you.subject, entry.id)
        return entry

    @mcp.tool()
    def list_entries() -> list[Entry]:
        """List your journal entries, oldest first."""
        return journal.list(caller().subject)

    @mcp.tool()
    def get_entry(id: Annotated[int, Field(description="The entry's id, as list_entries shows it.")]) -> Entry:
        """Read one of your journal entries."""
        entry = journal.get(caller().subject, id)
        if entry is None:
            raise ToolError(f"No entry {id} in your journal")  # whether it exists for someone else: not said
        return entry

    @mcp.tool()
    def delete_entry(id: Annotated[int, Field(description="The entry's id.")]) -> str:
        """Delete one of your journal entries (needs journal:write)."""
        you = caller()
        if not journal.delete(you.subject, id):
            raise ToolError(f"No entry {id} in your journal")
        logger.info("%s deleted entry %d", you.subject, id)
        return f"Deleted entry {id}"

    return mcp
