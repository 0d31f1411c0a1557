"""The resource server's gate: every HTTP request to /mcp shows a valid token with enough scope.

It answers as RFC 6750 and the MCP authorization spec say, because the client
acts on exactly these answers:

- no token                 -> 401, `WWW-Authenticate: Bearer resource_metadata="…", scope="…"`, no `error`
                              (the client discovers the authorization server from resource_metadata);
- a malformed header       -> 400 `error="invalid_request"`;
- bad, expired, wrong `aud` -> 401 `error="invalid_token"` (the client re-authorizes);
- too little scope         -> 403 `error="insufficient_scope"`, `scope=` every scope the call needs
                              (the client asks the user for more and retries: "step-up").

The SDK ships a bearer middleware, but its challenges omit `scope` and name only
one missing scope, and it cannot tell which tool a request calls. This gate
reads the tool name from the JSON-RPC body, then hands the verified token to
the SDK as `scope["user"]`: the SDK binds each MCP session to that principal,
and `get_access_token()` returns it inside the tools.
"""

import json
import logging
from collections.abc import Callable
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import TokenVerifier
from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024  # the SDK's own limit for a JSON-RPC message


class BearerGate:
    def __init__(
        self,
        app: ASGIApp,
        verifier: TokenVerifier,
        resource_metadata_url: str,
        scopes_for: Callable[[Any, Any], frozenset[str]],
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.resource_metadata_url = resource_metadata_url
        self.scopes_for = scopes_for  # (method, params) of a JSON-RPC request -> the scopes it needs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await read_body(receive) if scope["method"] == "POST" else b""
        if body is None:
            await JSONResponse({"error": "request body too large"}, status_code=413)(scope, receive, send)
            return
        message = parse(body)
        needed = self.scopes_for(message.get("method"), message.get("params"))

        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            await self.challenge(401, needed)(scope, receive, send)
            return
        token = token.strip()
        if not token or " " in token:
            await self.challenge(400, needed, "invalid_request", "Malformed Bearer credentials")(scope, receive, send)
            return
        access = await self.verifier.verify_token(token)
        if access is None:
            challenge = self.challenge(
                401, needed, "invalid_token", "The access token is invalid, expired or not for this server"
            )
            await challenge(scope, receive, send)
            return
        if missing := needed - set(access.scopes):
            logger.info("client %s lacks scope %s", access.client_id, " ".join(sorted(missing)))
            challenge = self.challenge(403, needed, "insufficient_scope", f"Needs scope: {' '.join(sorted(missing))}")
            await challenge(scope, receive, send)
            return

        scope["user"] = AuthenticatedUser(access)
        scope["auth"] = AuthCredentials(access.scopes)
        await self.app(scope, replay(body, receive), send)

    def challenge(
        self, status: int, scopes: frozenset[str], error: str | None = None, description: str = ""
    ) -> JSONResponse:
        params = [f'error="{error}"', f'error_description="{description}"'] if error else []
        params += [f'resource_metadata="{self.resource_metadata_url}"', f'scope="{" ".join(sorted(scopes))}"']
        body = {"error": error or "unauthorized", "error_description": description or "Bearer token required"}
        return JSONResponse(body, status_code=status, headers={"WWW-Authenticate": "Bearer " + ", ".join(params)})


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None past MAX_BODY_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def parse(body: bytes) -> dict:
    """The JSON-RPC message, or {} when it is not one: the SDK answers malformed input itself."""
    try:
        message = json.loads(body) if body else {}
    except (ValueError, RecursionError):  # RecursionError: arrays nested 100,000 deep
        return {}
    return message if isinstance(message, dict) else {}


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that first hands the app the body the gate already read, then the real events
    (a streamed response listens on it for the client's disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
