"""OAuth for the client: what the SDK's `OAuthClientProvider` leaves to the application.

The SDK runs the protocol; `CheckedOAuthProvider` adds the checks only the application can make: no
authorization without validated metadata, and a refresh only at the login's own issuer.
"""

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import httpx2
from mcp.client.auth import OAuthClientProvider, OAuthFlowError, OAuthTokenError
from mcp.client.auth.utils import issuers_match, union_scopes
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata

from ..client_extras.account import WithLogout
from ..client_extras.discovery import discover, refuse_without_metadata
from ..client_extras.refusals import StopsOnRefusedNewToken, authorization_error
from ..client_extras.registration import drop_unusable_registration, forget_unknown_registration
from .callback import LoopbackCallback
from .token_storage import FileTokenStorage

logger = logging.getLogger(__name__)


class CheckedOAuthProvider(WithLogout, StopsOnRefusedNewToken, OAuthClientProvider):  # mixins: ../client_extras/
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
        # A registration kept for another --callback-port, or instead of --client-metadata-url, serves no new login.
        drop_unusable_registration(self.context, self.callback.redirect_uri)

    async def _refresh_token(self) -> httpx2.Request:
        # Never let the SDK guess the token endpoint (it would fall back to the MCP server's origin),
        # nor refresh a registration anywhere but at the issuer it is bound to.
        metadata = self.context.oauth_metadata
        if metadata is None or not bound_to(self.context.client_info, str(metadata.issuer)):
            raise OAuthTokenError("refusing to refresh without the validated metadata of this login's issuer")
        return await super()._refresh_token()

    async def _handle_refresh_response(self, response: httpx2.Response) -> bool:
        if not (refreshed := await super()._handle_refresh_response(response)):
            # A registration the authorization server forgot would only lead the user to a refusal.
            await forget_unknown_registration(response, self.context, self.storage)
            self._choose_client()  # the login that follows may listen on another port (--callback-port 0)
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


def bound_to(client: OAuthClientInformationFull | None, issuer: str) -> bool:
    """Whether a registration belongs to `issuer`, as the SDK binds it (SEP-2352, RFC 8414 §3.3)."""
    return client is not None and client.issuer is not None and issuers_match(client.issuer, issuer)
