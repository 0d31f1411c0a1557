"""The MCP server and its tools.

The SDK reads each tool's name from the function, its description from the
docstring and its JSON Schema from the type hints: there is no schema to write
by hand, and arguments that do not match it never reach the function.

The tools of this lesson act for the caller whose token the gate (HTTP) or the startup
check (stdio) verified (`verified_token()`); none of them takes it as an argument, so it never
passes through the model. The upstream is called with one HTTP client for the
server's whole life (`upstream_client`), shared by every caller.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx2
from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from ..addresses import UPSTREAM_ADDR
from ..safe_output import mask_token
from ..server_extras.json_answers import UnreadableAnswer, get_answer
from .context import assign_request_id
from .exchange import ExchangeRefused, TokenExchanger
from .journal import Entry, Journal
from .scopes import require_scopes

SERVER_NAME = "oauth-mcp"
SERVER_VERSION = "0.1.0"
DEFAULT_UPSTREAM_URL = f"http://{UPSTREAM_ADDR}/anything"
UPSTREAM_TIMEOUT_SECONDS = 10.0

logger = logging.getLogger(__name__)


class UpstreamEcho(BaseModel):
    """What the upstream API saw: the query arguments and the headers of our request."""

    args: dict[str, str | list[str]]
    headers: dict[str, str]
    token: dict[str, Any]  # and whom the token we sent names


class Caller(BaseModel):
    """The verified caller of the current request: who its token says is calling."""

    subject: str
    client_id: str
    scopes: list[str]
    expires_at: int | None


class TokenView(BaseModel):
    """The verified token: its claims, and the token itself masked."""

    token: str
    claims: dict[str, Any]


def verified_token() -> AccessToken:
    """The token the gate (HTTP) or the startup check (stdio) verified; a tool error if there is none."""
    access = get_access_token()
    if access is None or not access.subject:
        raise ToolError("No verified identity: call over HTTP with an access token, or set API_KEY on stdio.")
    return access


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


def create_server(journal: Journal, exchanger: TokenExchanger, upstream_url: str = DEFAULT_UPSTREAM_URL) -> MCPServer:
    """Build the server. One factory serves both transports and every test."""
    # The upstream's tokens are issued for the API itself, its origin (upstream/__main__.py).
    upstream_audience = "{0.scheme}://{0.netloc}".format(urlsplit(upstream_url))
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
    def show_auth_token() -> TokenView:
        """Show the verified claims of the caller's access token, with the token itself masked."""
        access = verified_token()
        return TokenView(token=mask_token(access.token), claims=access.claims or {})

    @mcp.tool()
    async def make_authenticated_request(
        message: Annotated[str, Field(description="The message to send as the 'message' query parameter.")],
        ctx: Context,
    ) -> UpstreamEcho:
        """Call the upstream echo API with a token exchanged for the caller's, and return what it saw."""
        try:
            # RFC 8693: the caller's token is traded for one whose audience is the upstream.
            token = await exchanger.token_for(upstream_audience, verified_token().token)
        except ExchangeRefused as refusal:
            raise ToolError(f"Cannot call the upstream API for you: {refusal}") from None
        logger.info("calling %s with token %s", upstream_url, mask_token(token))
        http: httpx2.AsyncClient = ctx.request_context.lifespan_context  # what upstream_client yielded
        try:
            headers = {"Authorization": f"Bearer {token}"}
            return await get_answer(http, upstream_url, UpstreamEcho, params={"message": message}, headers=headers)
        except httpx2.HTTPError as error:
            raise ToolError(f"Upstream {upstream_url} unreachable: {type(error).__name__}") from None
        except UnreadableAnswer as problem:
            raise ToolError(f"Upstream {upstream_url} answered {problem}") from None

    @mcp.tool()
    def whoami() -> Caller:
        """Who you are to this server: the verified subject, client and scopes."""
        return Caller.model_validate(verified_token(), from_attributes=True)

    @mcp.tool()
    def create_entry(
        title: Annotated[str, Field(description="The entry's title.", min_length=1, max_length=200)],
        content: Annotated[str, Field(description="The entry's text.", max_length=10_000)],
        tags: Annotated[list[str], Field(default_factory=list, description="Tags to file the entry under.")],
    ) -> Entry:
        """Write a new journal entry (needs journal:write)."""
        subject = verified_token().subject
        entry = journal.create(subject, title, content, tags)
        logger.info("%s created entry %d", subject, entry.id)
        return entry

    @mcp.tool()
    def list_entries() -> list[Entry]:
        """List your journal entries, oldest first."""
        return journal.list(verified_token().subject)

    @mcp.tool()
    def get_entry(id: Annotated[int, Field(description="The entry's id, as list_entries shows it.")]) -> Entry:
        """Read one of your journal entries."""
        entry = journal.get(verified_token().subject, id)
        if entry is None:
            raise ToolError(f"No entry {id} in your journal")  # whether it exists for someone else: not said
        return entry

    @mcp.tool()
    def delete_entry(id: Annotated[int, Field(description="The entry's id.")]) -> str:
        """Delete one of your journal entries (needs journal:write)."""
        if not journal.delete(verified_token().subject, id):
            raise ToolError(f"No entry {id} in your journal")
        return f"Deleted entry {id}"

    return mcp
