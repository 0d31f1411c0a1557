"""OAuth for the client: what the SDK's `OAuthClientProvider` leaves to the application.

The SDK runs the protocol: the 401, discovery (the `issuer` checked exactly), registration or a
Client ID Metadata Document, PKCE, `state`, `iss`, `resource`, token exchange, refresh, step-up.
The application keeps the login (token_storage.py), takes the user to the authorization page and
back (callback.py), and makes the checks only it can: no authorization without validated metadata
that offers PKCE S256 and a registration bound to that issuer; a refresh only at the login's own
issuer, rediscovered at start (the SDK keeps metadata in memory, and a new process would refresh at
`<MCP server>/token`); `logout` revokes the tokens at the issuer's validated revocation endpoint.
"""

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import httpx2
from mcp.client.auth import OAuthClientProvider, OAuthFlowError, OAuthTokenError
from mcp.client.auth.utils import issuers_match, union_scopes
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata

from ..client_extras.discovery import discover, refuse_without_metadata
from ..client_extras.refusals import authorization_error, refused_client
from ..client_extras.revocation import revoke
from .callback import LoopbackCallback
from .token_storage import FileTokenStorage

logger = logging.getLogger(__name__)


class CheckedOAuthProvider(OAuthClientProvider):
    """The SDK's provider for the authorization code flow, with the checks it leaves to the application."""

    def __init__(
        self,
        server_url: str,
        storage: FileTokenStorage,
        callback: LoopbackCallback,
        *,
        open_page: Callable[[str], Awaitable[None]],  # how the user gets to a page: a browser, usually
        client_metadata_url: str | None = None,
        scope: str | None = None,  # asked for beyond what the server's challenges ask for
    ) -> None:
        # What this client registers: a public client, since a command line cannot keep a secret.
        metadata = OAuthClientMetadata(
            client_name="MCP workshop client (lesson 03)",
            redirect_uris=[callback.redirect_uri],
            grant_types=["authorization_code", "refresh_token"],
            token_endpoint_auth_method="none",  # noqa: S106 -- the name of a method, not a secret
        )
        super().__init__(server_url, metadata, storage, self._send_user, self._await_user, client_metadata_url)
        self.storage, self.callback, self.open_page, self.scope = storage, callback, open_page, scope
        self._state = ""  # the `state` of the authorization request in flight

    async def _initialize(self) -> None:
        """Load the stored login, and learn again, validated, where it may be refreshed."""
        await super()._initialize()
        self._choose_client()
        client, tokens = self.context.client_info, self.context.current_tokens
        if tokens is None or client is None or client.issuer is None:
            return
        self.context.token_expiry_time = self.storage.entry().get("expires_at")
        try:
            prm, metadata = await discover(self.context.server_url, client.issuer)
        except OAuthFlowError as problem:  # the resource now trusts another server, or lies: the tokens go nowhere
            logger.warning("discarding the stored login: %s", problem)
            self.context.clear_tokens()
        except httpx2.HTTPError as problem:  # cannot confirm where to refresh: the access token while valid
            logger.info("cannot rediscover %s (%s): no refresh this run", client.issuer, type(problem).__name__)
            tokens.refresh_token = None
        else:
            self.context.protected_resource_metadata, self.context.oauth_metadata = prm, metadata
            self.context.auth_server_url = client.issuer

    def _choose_client(self) -> None:
        """Whether the stored registration serves a new login: not one for another --callback-port, nor
        one where a metadata document (--client-metadata-url) is preferred to registering."""
        stored, document = self.context.client_info, self.context.client_metadata_url
        if stored and not self.context.current_tokens:
            registered_for = [str(uri) for uri in stored.redirect_uris or []]
            if self.callback.redirect_uri not in registered_for or (document and stored.client_id != document):
                self.context.client_info = None

    async def _refresh_token(self) -> httpx2.Request:
        # Never let the SDK guess the token endpoint (it would fall back to the MCP server's origin),
        # nor refresh a registration anywhere but at the issuer it is bound to.
        metadata = self.context.oauth_metadata
        if metadata is None or not bound_to(self.context.client_info, str(metadata.issuer)):
            raise OAuthTokenError("refusing to refresh without the validated metadata of this login's issuer")
        return await super()._refresh_token()

    async def _handle_refresh_response(self, response: httpx2.Response) -> bool:
        refreshed = await super()._handle_refresh_response(response)
        if not refreshed and await refused_client(response):
            # The authorization server no longer knows this registration (it was restarted on a new
            # database, say): reusing it would send the user to a page that can only refuse. Forget
            # it, so the login that follows registers again, once.
            logger.warning("%s refused this client's registration (invalid_client): registering again", response.url)
            self.context.client_info = None
            self.storage.forget()
        return refreshed

    async def _perform_authorization(self) -> httpx2.Request:
        """Refuse before the user is sent anywhere, unless discovery validated a server we can use safely."""
        metadata = self.context.oauth_metadata
        if metadata is None:  # the SDK found none, or refused what it found: say which
            await refuse_without_metadata(self.context.server_url, self.context.auth_server_url)
        if "S256" not in (metadata.code_challenge_methods_supported or []):
            # The MCP spec: a client MUST refuse when code_challenge_methods_supported lacks S256.
            raise OAuthFlowError(f"{metadata.issuer} does not advertise PKCE S256: refusing to use it")
        if not bound_to(self.context.client_info, str(metadata.issuer)):
            raise OAuthFlowError(f"the client registration is not bound to {metadata.issuer}: refusing to use it")
        if self.scope:
            self.context.client_metadata.scope = union_scopes(self.context.client_metadata.scope, self.scope)
        return await super()._perform_authorization()

    async def _send_user(self, authorization_url: str) -> None:
        self._state = parse_qs(urlsplit(authorization_url).query).get("state", [""])[0]
        await self.callback.open()
        await self.open_page(authorization_url)

    async def _await_user(self) -> AuthorizationCodeResult:
        params = await self.callback.wait(self._state)
        if "error" in params:  # a mix-up attack, unless `iss` proves who sent it (RFC 9207)
            raise authorization_error(params, self.context.oauth_metadata)
        # The SDK checks `state` again, then `iss`, then redeems the code.
        return AuthorizationCodeResult(code=params.get("code", ""), state=params.get("state"), iss=params.get("iss"))

    async def logout(self, client: OAuthClientInformationFull | None = None) -> str:
        """Revoke this login's tokens at its issuer (RFC 7009), as `client` (by default the registration
        they were issued to), then forget them."""
        stored, tokens = await self.storage.get_client_info(), await self.storage.get_tokens()
        if stored is None or stored.issuer is None or tokens is None:
            self.storage.forget()
            return "Not logged in."
        self.context.client_info = client or stored
        revoked = await revoke(self.context, stored.issuer, tokens)
        self.storage.forget()
        done = "revoked and deleted" if revoked else "deleted (not revoked)"
        return f"Logged out of {stored.issuer}: tokens {done} from {self.storage.path}."


def bound_to(client: OAuthClientInformationFull | None, issuer: str) -> bool:
    """Whether a registration belongs to `issuer`, as the SDK binds it (SEP-2352, RFC 8414 §3.3)."""
    return client is not None and client.issuer is not None and issuers_match(client.issuer, issuer)
