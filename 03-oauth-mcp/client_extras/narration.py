"""`--verbose`: the OAuth flow narrated as it happens, for lesson 03's clients. Skip on a first read: it only watches.

Every request of the flow (the SDK's discovery, registration and token calls, and the MCP requests
themselves) goes through the client's httpx2 client, so its event hooks see each step; the user's
client (`client/connect.py`, through hooks.py) and the machine client (`machine_client/`) install
them with `--verbose`. This module prints to stderr and changes nothing. It never prints a usable
token or raw text from a server (`safe_output.py`), and it never raises: whatever a server sends
that it cannot make sense of is left for the SDK to judge (`never_raises`).
"""

import functools
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx2

from ..bounded_json import JsonOutOfBounds, parse_json
from ..safe_output import mask_token, printable

MAX_TOKEN_RESPONSE_BYTES = 64 * 1024


def say(message: str) -> None:
    print(f"[oauth] {printable(message)}", file=sys.stderr, flush=True)


def never_raises(hook: Callable[[Any, Any], Awaitable[None]]) -> Callable[[Any, Any], Awaitable[None]]:
    """An event hook that cannot break the flow it narrates: an error in it is said, not raised."""

    @functools.wraps(hook)
    async def narrate(self: Any, message: Any) -> None:
        try:
            await hook(self, message)
        except httpx2.HTTPError:
            raise  # the connection failed: the SDK would see it without us, and must
        except Exception as problem:  # anything else is narration's own failure: say so, and go on
            say(f"(cannot narrate this step: {type(problem).__name__})")

    return narrate


def token_fields(body: bytes) -> dict[str, Any] | None:
    """A token response's fields, or None if it is not a JSON object (the SDK then refuses it)."""
    try:
        fields = parse_json(body, MAX_TOKEN_RESPONSE_BYTES)
    except JsonOutOfBounds:
        return None
    return fields if isinstance(fields, dict) else None


class Narrator:
    def __init__(self, mcp_url: str) -> None:
        self.mcp_url = mcp_url
        self.authorized = False  # True once a token was obtained: the next MCP request is the retry

    def hooks(self) -> dict[str, list]:
        return {"request": [self.on_request], "response": [self.on_response]}

    @never_raises
    async def on_request(self, request: httpx2.Request) -> None:
        path = request.url.path
        if "/.well-known/oauth-protected-resource" in path:
            say(f"read the protected resource metadata: GET {request.url}")
        elif "/.well-known/oauth-authorization-server" in path or "/.well-known/openid-configuration" in path:
            say(f"read the authorization server metadata: GET {request.url}")
        elif path.endswith("/register"):
            say(f"register this client (dynamic client registration): POST {request.url}")
        elif path.endswith("/token"):
            grant = parse_qs(request.content.decode()).get("grant_type", ["?"])[0]
            came_back = " (the browser came back to the callback with a code)" if grant == "authorization_code" else ""
            say(f"token request, grant_type={grant}{came_back}: POST {request.url}")
        elif str(request.url) == self.mcp_url and self.authorized:
            self.authorized = False
            say(f"retry the MCP request with the new access token: {request.method} {request.url}")

    @never_raises
    async def on_response(self, response: httpx2.Response) -> None:
        url = str(response.request.url)
        challenge = response.headers.get("www-authenticate")
        if url == self.mcp_url and response.status_code in (401, 403) and challenge:
            step = "step-up: more scope needed" if response.status_code == 403 else "authorization needed"
            say(f"the MCP server answered {response.status_code} ({step}): WWW-Authenticate: {challenge}")
        elif response.request.url.path.endswith("/token") and response.status_code == 200:
            tokens = token_fields(await response.aread())
            if tokens is None:
                say("the token response is not a JSON object")
                return
            say(
                f"got an access token {mask_token(str(tokens.get('access_token', '')))}, "
                f"scope {tokens.get('scope')!r}, expires in {tokens.get('expires_in')} s"
                + (", and a refresh token" if "refresh_token" in tokens else "")
            )
            self.authorized = True
        elif response.request.url.path.endswith("/token"):
            body = (await response.aread()).decode(errors="replace")[:200]
            say(f"token request refused: HTTP {response.status_code} {body}")
