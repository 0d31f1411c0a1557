"""The gate: who may use the proxy, and which backends they see.

Tokens come from the config: `mcpProxy.options.authTokens` for every backend,
or a backend's own `options.authTokens` in their place (TBXark's rule). A
caller presents one as `Authorization: Bearer <token>`, in the header only: a
token in a URL ends up in logs, browser history and proxies' caches.

- `/<backend>/mcp` admits the callers that backend's tokens admit;
- `/mcp` admits a caller some backend admits, and shows them only those backends;
- a backend with no tokens at all is open to anyone (the proxy binds 127.0.0.1).

Anyone else gets `401` before any MCP message is read. Tokens are compared with
`hmac.compare_digest`, whose time does not depend on where two strings differ,
so response times do not leak a token character by character. What a caller is
let in to is set as `admission` (view.py) for the MCP handlers: which endpoint,
which backends.

A session belongs to the token that opened it. The caller's token is also handed
to the SDK as the request's user (`session_owner`), and the SDK's session manager
answers a request that carries someone else's session id as if the session did
not exist (404): a leaked `Mcp-Session-Id` lets no one else answer that session's
questions, read its stream or end it.

The caller's `Authorization` header stops here: backends only ever receive the
headers configured for them (backends.py). Passing it on would be the token
passthrough that lesson 02 shows and the MCP specification forbids.
"""

import hashlib
import hmac
import json
import re
import secrets

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp_types import INVALID_REQUEST
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .proxy import Proxy
from .settings import ProxySettings
from .view import Admission, admission

# RFC 6750 §2.1: the scheme `Bearer` (in any case), then one token of the token68 characters.
BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for any other header, a bare token too."""
    match = BEARER.fullmatch((authorization or "").strip())
    return match[1] if match else None


def admits(tokens: tuple[str, ...], presented: str | None) -> bool:
    if not tokens:
        return True
    if presented is None:
        return False
    # Compare with every token, always: no early exit that timing could reveal.
    matches = [hmac.compare_digest(presented.encode(), token.encode()) for token in tokens]
    return any(matches)


def admitted_backends(settings: ProxySettings, presented: str | None) -> frozenset[str]:
    return frozenset(name for name, backend in settings.backends.items() if admits(backend.tokens, presented))


# A key of this process's own: the owner's label tells tokens apart, and is worth nothing to anyone who sees it.
OWNER_KEY = secrets.token_bytes(32)


def session_owner(token: str) -> AuthenticatedUser:
    """The caller, as the SDK compares a request with the one that opened its session: by `subject`.

    The token itself is left out (`token=""`): nothing downstream needs it, and what is not there cannot
    be logged or passed on."""
    label = hmac.new(OWNER_KEY, token.encode(), hashlib.sha256).hexdigest()
    return AuthenticatedUser(AccessToken(token="", client_id="bearer-gate", scopes=[], subject=label))


class BearerGate:
    """ASGI wrapper around the MCP endpoint: checks the token, then sets `admission` for the handlers."""

    def __init__(self, app: ASGIApp, proxy: Proxy) -> None:
        self.app = app
        self.proxy = proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = self.proxy.settings  # read once: a reload mid-request changes nothing for it
        route = scope.get("path_params", {}).get("backend")
        if route is not None and route not in settings.backends:
            await refuse(send, 404, f"Not found: no backend named {route!r}")
            return
        presented = bearer_token(Headers(scope=scope).get("authorization"))
        admitted = admitted_backends(settings, presented)
        if (route is not None and route not in admitted) or (route is None and settings.guarded and not admitted):
            await refuse(
                send, 401, "Unauthorized: missing or unknown bearer token; send 'Authorization: Bearer <token>'"
            )
            return
        if presented is not None:
            scope["user"] = session_owner(presented)  # the SDK binds the session to it
        reset = admission.set(Admission(backend=route, admitted=admitted))
        try:
            await self.app(scope, receive, send)
        finally:
            admission.reset(reset)


async def refuse(send: Send, status: int, message: str) -> None:
    """An HTTP error whose body is a JSON-RPC error: MCP clients show its message instead of a bare status."""
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": INVALID_REQUEST, "message": message}}
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="mcp-proxy"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
