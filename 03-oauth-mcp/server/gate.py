"""The HTTP door: on HTTP every request may come from a different caller, so each one's token is read here.

Now a gate: a request to /mcp goes on only with a valid token with enough scope, or gets the answer
RFC 6750 and the MCP authorization spec give, because the client acts on exactly these answers:

- no token                 -> 401, `WWW-Authenticate: Bearer resource_metadata="…", scope="…"`, no `error`
                              (the client discovers the authorization server from resource_metadata);
- a malformed header       -> 400 `error="invalid_request"`;
- bad, expired, wrong `aud` -> 401 `error="invalid_token"` (the client re-authorizes);
- too little scope         -> 403 `error="insufficient_scope"`, `scope=` every scope the call needs
                              (the client asks the user for more and retries: "step-up").

The SDK's own bearer middleware names no `scope` and cannot tell which tool a request calls.
"""

import logging
import re

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import TokenVerifier
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..server_extras.request_body import json_rpc_message, read_body, replay
from .scopes import scopes_for

logger = logging.getLogger(__name__)

# RFC 6750 §2.1: the scheme `Bearer` (in any case), then one token of the token68 characters.
BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for any other header, a bare token too."""
    match = BEARER.fullmatch((authorization or "").strip())
    return match[1] if match else None


class BearerGate:
    """ASGI middleware in front of the MCP endpoint: a request goes on only with a verified token.

    It hands that token to the SDK as `scope["user"]` (see http.py). Plain ASGI, like the
    SDK's own auth middleware, rather than `@app.middleware("http")`: the MCP
    endpoint runs inside the context set here, and its event streams pass untouched.
    """

    def __init__(self, app: ASGIApp, verifier: TokenVerifier, resource_metadata_url: str) -> None:
        self.app = app
        self.verifier = verifier
        self.resource_metadata_url = resource_metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await read_body(receive) if scope["method"] == "POST" else b""
        if body is None:
            await JSONResponse({"error": "request body too large"}, status_code=413)(scope, receive, send)
            return
        message = json_rpc_message(body)
        needed = scopes_for(message.get("method"), message.get("params"))

        authorization = Headers(scope=scope).get("authorization", "")
        token = bearer_token(authorization)
        if token is None and authorization.partition(" ")[0].lower() != "bearer":  # none, or another scheme
            await self.challenge(401, needed)(scope, receive, send)
            return
        if token is None:
            await self.challenge(400, needed, "invalid_request", "Malformed Bearer credentials")(scope, receive, send)
            return
        access = await self.verifier.verify_token(token)
        if access is None:
            description = "The access token is invalid, expired or not for this server"
            await self.challenge(401, needed, "invalid_token", description)(scope, receive, send)
            return
        if missing := needed - set(access.scopes):
            logger.info("client %s lacks scope %s", access.client_id, " ".join(sorted(missing)))
            challenge = self.challenge(403, needed, "insufficient_scope", f"Needs scope: {' '.join(sorted(missing))}")
            await challenge(scope, receive, send)
            return

        scope["user"] = AuthenticatedUser(access)
        await self.app(scope, replay(body, receive), send)

    def challenge(
        self, status: int, scopes: frozenset[str], error: str | None = None, description: str = ""
    ) -> JSONResponse:
        params = [f'error="{error}"', f'error_description="{description}"'] if error else []
        params += [f'resource_metadata="{self.resource_metadata_url}"', f'scope="{" ".join(sorted(scopes))}"']
        body = {"error": error or "unauthorized", "error_description": description or "Bearer token required"}
        return JSONResponse(body, status_code=status, headers={"WWW-Authenticate": "Bearer " + ", ".join(params)})
