"""`PreRegisteredProvider`: lesson 03's provider with a client registered beforehand, bound to one issuer.

The SDK sends a client's secret to the token endpoint of whatever metadata it holds, and a malicious
MCP server names an authorization server of its own, which can register us under that very client_id
(issue 19). So the client belongs to `--issuer`, and to nothing else:

- a resource that names another authorization server is refused before anything is sent there
  (`_select_authorization_server`), where the SDK would register there instead;
- every login uses this client, never a registration made elsewhere (`_perform_authorization`),
  and is kept without the secret, which comes from the command line each run;
- a stored login is this client's only if it was made at its issuer (`owns`): one made at another
  server is that server's client, even with our client_id. Its tokens are not refreshed here, and
  `logout` revokes them as the client they were issued to, without the secret;
- the concept's checks still hold: a refresh or a revocation with the secret goes only to the
  validated metadata of the issuer the client is bound to (client/oauth.py).
"""

from typing import Any

import httpx2
from mcp.client.auth import OAuthClientProvider, OAuthFlowError
from mcp.shared.auth import OAuthClientInformationFull

from ..client.oauth import CheckedOAuthProvider, bound_to


def preregistered(
    client_id: str, client_secret: str | None, issuer: str, redirect_uri: str
) -> OAuthClientInformationFull:
    """The SDK's record of the client. A secret goes in HTTP Basic, which every authorization server
    must accept from a client with a secret (RFC 6749 §2.3.1; OAuth 2.1 §2.4.1)."""
    return OAuthClientInformationFull(
        client_id=client_id,
        client_secret=client_secret,
        redirect_uris=[redirect_uri],
        token_endpoint_auth_method="client_secret_basic" if client_secret else "none",
        issuer=issuer,
    )


class PreRegisteredProvider(CheckedOAuthProvider):
    """The lesson's provider, logging in through `client` only, and sending its secret to its issuer only."""

    def __init__(self, *args: Any, client: OAuthClientInformationFull, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client

    def owns(self, stored: OAuthClientInformationFull | None) -> bool:
        """Whether a stored registration is this client at its issuer."""
        return stored is not None and stored.client_id == self.client.client_id and bound_to(stored, self.client.issuer)

    def _choose_client(self) -> None:
        """This client, always; the stored tokens only if they are its own."""
        if not self.owns(self.context.client_info):
            self.context.current_tokens = None  # another client's tokens: not this client's to refresh
        self.context.client_info = self.client

    def _select_authorization_server(self, advertised: list[str]) -> str:
        # Where the resource lists several, the client's own; a resource that lists it not at all is
        # refused before registering anywhere else, as the SDK would.
        if chosen := next((server for server in advertised if bound_to(self.client, server)), None):
            return chosen
        raise OAuthFlowError(
            f"{self.context.server_url} trusts {', '.join(advertised)}, not {self.client.issuer}, "
            f"where {self.client.client_id} is registered: refusing to log in there"
        )

    async def _handle_refresh_response(self, response: httpx2.Response) -> bool:
        # Not the concept's: a client the administrator registered is not ours to register again.
        return await OAuthClientProvider._handle_refresh_response(self, response)

    async def _perform_authorization(self) -> httpx2.Request:
        # This client, never a registration the SDK made elsewhere; the concept checks it is bound to
        # the issuer whose metadata it holds, before the user is sent anywhere.
        self.context.client_info = self.client
        request = await super()._perform_authorization()
        # Kept for the next run, to know whose tokens these are; the secret comes from the command line.
        await self.storage.set_client_info(self.client.model_copy(update={"client_secret": None}))
        return request

    async def logout(self, client: OAuthClientInformationFull | None = None) -> str:
        # The secret comes along only for a login this client made at its issuer; any other is revoked
        # as the client it was issued to.
        return await super().logout(self.client if self.owns(await self.storage.get_client_info()) else None)
