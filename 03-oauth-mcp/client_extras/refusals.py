"""What a server's refusal says, read with care: how the client explains each failure without being fooled by it.

Skip on a first read: `client/` calls each of these where a server said no.

- `refused_token`: a raw `--token` the MCP server refuses. The SDK would report only an error code;
  this shows the server's challenge, which says why (`AccessRefused`).
- `StopsOnRefusedNewToken`: a token a login has just brought, refused too. The SDK would hand back the
  401, which its transport reports as JSON-RPC error -32603 "Server returned an error response", and
  then send the user to log in again, for a token like the first: this ends the command, saying why.
- `refused_client`: whether a refused refresh says `invalid_client` (RFC 6749 §5.2), i.e. the
  authorization server no longer knows this registration. The answer comes from the network, so it
  is read within bounds (`bounded_json.py`): 5,000 nested arrays were a RecursionError, which no code
  expecting "not JSON" catches.
- `authorization_error`: an error sent back to the loopback callback. One from a server the user was
  not sent to may be a mix-up attack (RFC 9207), so its text is shown only once `iss` proves which
  server sent it, and then escaped, since a terminal would act on its control characters.
- `unreachable`: which server a request that got no answer was for. With OAuth the MCP server is not
  the only one: an authorization server that is down must not read as "cannot talk to" the MCP server.
"""

from collections.abc import AsyncGenerator
from typing import Any

import httpx2
from mcp.client.auth import OAuthFlowError
from mcp.client.auth.oauth2 import OAuthContext
from mcp.client.auth.utils import extract_field_from_www_auth, validate_authorization_response_iss
from mcp.shared.auth import OAuthMetadata

from ..bounded_json import JsonOutOfBounds, read_json
from ..safe_output import printable

MAX_ERROR_BYTES = 16 * 1024  # an error answer is a few hundred bytes


class AccessRefused(Exception):
    """The server refused a token given with --token, or one just issued; a new login is not there to fix it."""


async def refused_token(response: httpx2.Response) -> None:
    """An httpx2 response hook, for a raw --token: the server's challenge, which the SDK would not show."""
    if response.status_code in (401, 403) and "www-authenticate" in response.headers:
        challenge = response.headers["www-authenticate"]
        raise AccessRefused(f"the server refused the token: HTTP {response.status_code}, WWW-Authenticate: {challenge}")


class StopsOnRefusedNewToken:
    """Mixed into the client's OAuth provider (client/oauth.py): after a login, the SDK sends the request
    again with the new token; refused again (401), the command ends here, with why, not in a second login."""

    context: OAuthContext

    async def _auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        flow: Any = super()._auth_flow(request)  # type: ignore[misc]  # the SDK's provider, next in line
        response, sent = None, 0
        try:
            while True:
                outgoing = await flow.asend(response)
                response = yield outgoing
                sent += outgoing is request  # the request itself: once, and again after a login
                if sent == 2 and response.status_code == 401:
                    raise AccessRefused(refused_new_token(response, self.context.auth_server_url))
        except StopAsyncIteration:
            return
        finally:
            await flow.aclose()


def refused_new_token(response: httpx2.Response, issuer: str | None) -> str:
    """Why the MCP server refused a token just issued, as its challenge says, and what may help."""
    error = extract_field_from_www_auth(response, "error") or "no error named"
    description = extract_field_from_www_auth(response, "error_description") or ""
    return (
        f"the MCP server refused the token {issuer or 'the authorization server'} has just issued"
        f" ({error}: {description}); logging in again would not help. If the authorization server has just"
        " restarted, call again in 30 s: the MCP server looks for its new signing key at most that often;"
        " otherwise the MCP server's log says why"
    )


async def refused_client(response: httpx2.Response) -> bool:
    """Whether a token endpoint answered `invalid_client`: it does not know this client."""
    if response.status_code not in (400, 401):
        return False
    try:
        answer = await read_json(response, MAX_ERROR_BYTES)
    except JsonOutOfBounds:
        return False
    return isinstance(answer, dict) and answer.get("error") == "invalid_client"


def authorization_error(params: dict[str, str], metadata: OAuthMetadata | None) -> OAuthFlowError:
    """The error to report for an `error=` answer at the callback, from the server the user was sent to."""
    try:
        validate_authorization_response_iss(params.get("iss"), metadata)
    except OAuthFlowError:
        return OAuthFlowError("an authorization error from an unexpected issuer: ignored")
    description = params.get("error_description", "")
    return OAuthFlowError(f"Authorization refused: {printable(params['error'])} {printable(description)}")


def unreachable(error: BaseException, mcp_server: str) -> str:
    """Where the request that failed went (its query left out: it may carry a code), else the MCP server."""
    try:
        url = error.request.url  # type: ignore[attr-defined]  # httpx2's RequestError, once it was sent
    except (AttributeError, RuntimeError):  # no request: not an httpx2 error, or one raised before sending
        return mcp_server
    return str(url.copy_with(query=None, fragment=None))
