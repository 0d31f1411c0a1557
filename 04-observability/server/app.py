"""The MCP server and its tools.

The SDK reads each tool's name from the function, its description from the
docstring and its JSON Schema from the type hints: there is no schema to write
by hand, and arguments that do not match it never reach the function.

The tools added in this lesson read the caller's token from the request
context (see context.py); none of them takes it as an argument, so it never
passes through the model. The upstream is called with one HTTP client for the
server's whole life (`upstream_client`), shared by every caller.

The tools themselves know nothing of telemetry: a middleware records each call
(see instrumentation.py), and the instrumented httpx2 traces the upstream call.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Annotated

import httpx2
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from ..addresses import UPSTREAM_ADDR
from ..safe_output import mask_token
from .context import auth_token
from .instrumentation import record_operation

SERVER_NAME = "observability"
SERVER_VERSION = "0.1.0"
DEFAULT_UPSTREAM_URL = f"http://{UPSTREAM_ADDR}/anything"
UPSTREAM_TIMEOUT_SECONDS = 10.0

logger = logging.getLogger(__name__)


class UpstreamEcho(BaseModel):
    """What the upstream API saw: the query arguments and the headers of our request."""

    args: dict[str, str | list[str]]
    headers: dict[str, str]


def require_token() -> str:
    token = auth_token.get()
    if not token:
        raise ToolError(
            "No token: send 'Authorization: Bearer <token>' over HTTP, "
            "or set API_KEY in the server's environment on stdio."
        )
    return token


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


def create_server(upstream_url: str = DEFAULT_UPSTREAM_URL) -> MCPServer:
    """Build the server. One factory serves both transports and every test."""
    mcp = MCPServer(
        SERVER_NAME,
        version=SERVER_VERSION,
        instructions="A demo server: echo, add, and call an upstream API with the caller's token.",
        middleware=[record_operation],
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
    def show_auth_token() -> str:
        """Show the token this request carries, masked."""
        masked = mask_token(require_token())
        logger.info("show_auth_token: %s", masked)
        return masked

    @mcp.tool()
    async def make_authenticated_request(
        message: Annotated[str, Field(description="The message to send as the 'message' query parameter.")],
        ctx: Context,
    ) -> UpstreamEcho:
        """Call the upstream echo API with the caller's token and return what it saw."""
        token = require_token()
        logger.info("calling %s with token %s", upstream_url, mask_token(token))
        http: httpx2.AsyncClient = ctx.request_context.lifespan_context  # what upstream_client yielded
        try:
            response = await http.get(
                upstream_url, params={"message": message}, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx2.HTTPError as error:
            raise ToolError(f"Upstream {upstream_url} unreachable: {type(error).__name__}: {error}") from None
        if response.is_error:
            raise ToolError(f"Upstream {upstream_url} answered {response.status_code} {response.reason_phrase}")
        try:
            seen = UpstreamEcho.model_validate(response.json())
        except ValueError:
            raise ToolError(f"Upstream {upstream_url} did not answer with an echo of the request") from None
        # The result goes back to the client and, through it, to a model: show
        # that the upstream received the token without handing the token out.
        seen.headers = {
            name: f"Bearer {mask_token(token)}" if name.lower() == "authorization" else value
            for name, value in seen.headers.items()
        }
        return seen

    return mcp
