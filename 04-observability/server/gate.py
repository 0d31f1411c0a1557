"""The HTTP door: on HTTP every request may come from a different caller, so each one's token is read here.

It checks nothing: whatever token a caller sends is the one the tools use. Lesson 03 turns this
door into a real gate, which verifies the token and turns away a request without a valid one.
"""

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .context import auth_token

# RFC 6750 §2.1: the scheme `Bearer` (in any case), then one token of the token68 characters.
BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for any other header, a bare token too."""
    match = BEARER.fullmatch((authorization or "").strip())
    return match[1] if match else None


class BearerGate:
    """ASGI middleware: the bearer token of each HTTP request into `auth_token` (context.py).

    The Python counterpart of mcp-go's WithHTTPContextFunc. Plain ASGI, like the
    SDK's own auth middleware, rather than `@app.middleware("http")`: the MCP
    endpoint runs inside the context set here, and its event streams pass untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reset = auth_token.set(bearer_token(Headers(scope=scope).get("authorization")))
        try:
            await self.app(scope, receive, send)
        finally:
            auth_token.reset(reset)
