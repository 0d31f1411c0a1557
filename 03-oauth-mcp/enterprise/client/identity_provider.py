"""The application's side of the company's IdP: sign the user in for an ID token; exchange it for an ID-JAG.

The SDK's `IdentityAssertionOAuthProvider` redeems an ID-JAG at the MCP authorization server, and
asks the application for it: "obtaining the ID-JAG is deployment-specific and out of scope for the
SDK". Here is that part, for any IdP that speaks the standards (the bundled one, Okta, ...):

- `sign_in`: OpenID Connect, authorization code with PKCE, through the user's browser and the
  loopback callback (the lesson's client's `client/callback.py`): an ID token for the user;
- `exchange`: RFC 8693, the ID token for an ID-JAG for one authorization server (`audience`) and
  one MCP server (`resource`), the application authenticating with its secret at the IdP if it has
  one. The request is the whole of the extension's leg 1; the answer must say it is an ID-JAG.

Both go only to the IdP named with `--idp`: its metadata must name that issuer exactly, and its
endpoints must be on its origin, so neither the user's ID token nor the application's secret can be
sent anywhere else, whatever a metadata document says. The ID token comes straight from the IdP's
token endpoint, so its signature is the IdP's business (OpenID Connect Core §3.1.3.7, item 6): the
application checks only that it was meant for it (`iss`, `aud`, `nonce`), and then hands it back to
the IdP, which verifies it before it issues anything.
"""

import base64
import secrets
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx2
from mcp.client.auth import OAuthFlowError
from mcp.client.auth.oauth2 import PKCEParameters

from ...bounded_json import JsonOutOfBounds, parse_json
from ...client.callback import LoopbackCallback
from ...safe_output import printable

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 -- a grant type
ID_JAG_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id-jag"  # noqa: S105 -- a token type
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 -- a token type
MAX_ANSWER_BYTES = 64 * 1024


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port or {"https": 443, "http": 80}.get(parts.scheme)


class IdentityProvider:
    """The company's IdP as this application knows it: its issuer, and the application's id (and secret) there."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        token_endpoint: str | None = None,
        verbose: bool = False,
    ) -> None:
        self.issuer, self.client_id, self.client_secret = issuer, client_id, client_secret
        self.token_endpoint, self.verbose = token_endpoint, verbose
        if token_endpoint is not None and origin(token_endpoint) != origin(issuer):
            raise ValueError(f"the IdP's token endpoint {token_endpoint} is not on its issuer's origin {issuer}")

    async def sign_in(self, callback: LoopbackCallback, open_page: Callable[[str], Awaitable[None]]) -> str:
        """The user signs in at the IdP, in the browser: their ID token."""
        metadata = await self._metadata()
        pkce, state, nonce = PKCEParameters.generate(), secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        await callback.open()  # before the user is sent out: a quick return must find the port open
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": callback.redirect_uri,
            "scope": "openid",
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce.code_challenge,
            "code_challenge_method": "S256",
        }
        await open_page(f"{metadata['authorization_endpoint']}?{urlencode(query)}")
        answer = await callback.wait(state)
        if answer.get("iss") != self.issuer:  # RFC 9207: the answer is from this IdP, or it is ignored
            raise OAuthFlowError("the sign-in answer did not come from the identity provider (iss)")
        if "code" not in answer:
            raise OAuthFlowError(f"the identity provider refused the sign-in: {answer.get('error', 'no code')}")
        form = {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": callback.redirect_uri}
        tokens = await self._token_request({**form, "code_verifier": pkce.code_verifier}, "the sign-in's code")
        id_token = tokens.get("id_token")
        claims = unverified_claims(id_token) if isinstance(id_token, str) else {}
        if claims.get("iss") != self.issuer or claims.get("aud") not in (self.client_id, [self.client_id]):
            raise OAuthFlowError("the identity provider's answer holds no ID token for this application")
        if claims.get("nonce") != nonce:
            raise OAuthFlowError("the ID token is not the answer to this sign-in (nonce)")
        self._say(f"signed in at the identity provider as {claims.get('sub')}: got an ID token")
        return id_token

    async def exchange(self, id_token: str, audience: str, resource: str) -> str:
        """RFC 8693 at the IdP: the user's ID token for an ID-JAG for `audience` (the MCP authorization
        server's issuer) and `resource` (the MCP server)."""
        form = {
            "grant_type": TOKEN_EXCHANGE,
            "requested_token_type": ID_JAG_TOKEN_TYPE,
            "subject_token": id_token,
            "subject_token_type": ID_TOKEN_TYPE,
            "audience": audience,
            "resource": resource,
        }
        answer = await self._token_request(form, f"an ID-JAG for {audience}, resource {resource}")
        if answer.get("issued_token_type") != ID_JAG_TOKEN_TYPE or not isinstance(answer.get("access_token"), str):
            raise OAuthFlowError("the identity provider's answer is not an ID-JAG")
        scope, lifetime = answer.get("scope"), answer.get("expires_in")
        said = (f", scope {scope!r}" if scope else "") + (f", expires in {lifetime} s" if lifetime else "")
        self._say(f"got an ID-JAG{said}")
        return answer["access_token"]

    async def _metadata(self) -> dict[str, Any]:
        url = f"{self.issuer}/.well-known/openid-configuration"
        self._say(f"read the identity provider's metadata: GET {url}")
        async with httpx2.AsyncClient(timeout=30, follow_redirects=False) as http:
            metadata = read_answer(await http.get(url), "its metadata")
        if metadata.get("issuer") != self.issuer:  # compared as a string (OpenID Connect Discovery §4.3)
            raise OAuthFlowError(f"the identity provider's metadata names another issuer than {self.issuer}")
        for endpoint in ("authorization_endpoint", "token_endpoint"):
            if not isinstance(metadata.get(endpoint), str) or origin(metadata[endpoint]) != origin(self.issuer):
                raise OAuthFlowError(f"the identity provider's {endpoint} is not on its issuer's origin")
        self.token_endpoint = self.token_endpoint or metadata["token_endpoint"]
        return metadata

    async def _token_request(self, form: dict[str, str], what: str) -> dict[str, Any]:
        if self.token_endpoint is None:
            await self._metadata()
        grant = form["grant_type"]
        self._say(f"token request at the identity provider, grant_type={grant} ({what}): POST {self.token_endpoint}")
        form = {**form, "client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret  # client_secret_post, as Okta's own example sends it
        async with httpx2.AsyncClient(timeout=30, follow_redirects=False) as http:
            return read_answer(await http.post(self.token_endpoint, data=form), "its token endpoint")

    def _say(self, message: str) -> None:
        if self.verbose:
            print(f"[idp] {printable(message)}", file=sys.stderr, flush=True)


def read_answer(response: httpx2.Response, what: str) -> dict[str, Any]:
    """A JSON object from the IdP, within bounds; its OAuth error as an OAuthFlowError."""
    try:
        body = parse_json(response.content, MAX_ANSWER_BYTES)
    except JsonOutOfBounds:
        body = None
    if not isinstance(body, dict):
        raise OAuthFlowError(
            f"the identity provider answered HTTP {response.status_code}, not a JSON object, at {what}"
        )
    if response.status_code != 200:
        error, description = body.get("error"), body.get("error_description")
        raise OAuthFlowError(f"the identity provider refused, at {what}: {error} {description or ''}".strip()[:300])
    return body


def unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified: what the application reads of an ID token it got straight from the IdP."""
    try:
        payload = token.split(".")[1]
        claims = parse_json(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)), MAX_ANSWER_BYTES)
    except (IndexError, ValueError):  # JsonOutOfBounds is a ValueError
        return {}
    return claims if isinstance(claims, dict) else {}
