"""OAuth for the client: what the SDK's `OAuthClientProvider` leaves to the application.

The SDK runs the protocol: the 401, discovery of the protected resource and of
its authorization server, registration, PKCE, `state`, `iss`, the `resource`
parameter, the token exchange, refresh and step-up. What only an application
can provide lives beside this module: where tokens are kept (token_storage.py)
and how the user reaches the authorization page and comes back (callback.py).
This module adds:

- a refusal the SDK does not make: an authorization server that does not
  advertise PKCE S256 is not used (`check_metadata`);
- memory across runs: the SDK keeps the token's expiry and the discovered
  metadata in memory only. A new process would send an expired token, and then
  refresh it at `<MCP server>/token`, handing the *refresh token to the MCP
  server*. `RefreshingOAuthClientProvider` restores both from the token file,
  so the refresh goes to the issuer's real token endpoint.

`logout` ends a login: tokens revoked at the issuer, then forgotten.
"""

import json
import logging

import httpx2
from mcp.client.auth import OAuthClientProvider, OAuthFlowError
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.shared.auth import OAuthClientMetadata, OAuthMetadata, ProtectedResourceMetadata

from .callback import LoopbackCallback, open_browser
from .token_storage import FileTokenStorage

logger = logging.getLogger(__name__)


def check_metadata(storage: FileTokenStorage | None, callback: LoopbackCallback | None):
    """An httpx2 response hook on the discovery documents: refuse an authorization server without
    PKCE S256, and remember both documents with the tokens for the next run."""

    async def check(response: httpx2.Response) -> None:
        path = response.request.url.path
        if response.status_code != 200 or "/.well-known/" not in path:
            return
        metadata = json.loads(await response.aread())
        if "/.well-known/oauth-protected-resource" in path:
            if storage and metadata.get("authorization_servers"):
                storage.remember_metadata(metadata["authorization_servers"][0], resource_metadata=metadata)
            return
        if "S256" not in metadata.get("code_challenge_methods_supported", []):
            raise OAuthFlowError(f"{metadata.get('issuer')} does not support PKCE S256: refusing to use it")
        if callback:
            callback.expected_issuer = metadata.get("issuer")
        if storage:
            storage.remember_metadata(metadata["issuer"], server_metadata=metadata)

    return check


class RefreshingOAuthClientProvider(OAuthClientProvider):
    """The SDK provider, told what an earlier run learnt: when the stored token expires, and where
    its issuer's token endpoint is. So it refreshes, at the right place."""

    async def _initialize(self) -> None:
        await super()._initialize()
        storage = self.context.storage
        if not isinstance(storage, FileTokenStorage) or not self.context.current_tokens:
            return
        issuer, entry = storage.entry()
        if "server_metadata" not in entry:  # without it, never refresh: the SDK would guess the endpoint
            self.context.current_tokens.refresh_token = None
            return
        self.context.token_expiry_time = storage.expires_at()
        self.context.auth_server_url = issuer
        self.context.oauth_metadata = OAuthMetadata.model_validate(entry["server_metadata"])
        if "resource_metadata" in entry:
            self.context.protected_resource_metadata = ProtectedResourceMetadata.model_validate(
                entry["resource_metadata"]
            )


def build_auth(
    server_url: str,
    storage: FileTokenStorage,
    callback: LoopbackCallback,
    use_browser: bool,
    client_metadata_url: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    issuer: str | None = None,
) -> httpx2.Auth:
    """The SDK provider for this login: client credentials for a machine, else the authorization code flow."""
    if client_id and client_secret:
        # `issuer` pins where the secret may go: an MCP server naming another
        # authorization server cannot make us send it there.
        return ClientCredentialsOAuthProvider(server_url, storage, client_id, client_secret, issuer=issuer)
    metadata = OAuthClientMetadata(
        client_name="MCP workshop client (lesson 03)",
        redirect_uris=[callback.redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",  # noqa: S106 -- a public client: a CLI cannot keep a secret
    )
    return RefreshingOAuthClientProvider(
        server_url,
        metadata,
        storage,
        redirect_handler=lambda url: open_browser(url, use_browser),
        callback_handler=callback.wait,
        client_metadata_url=client_metadata_url,
    )


async def logout(storage: FileTokenStorage) -> str:
    """Revoke this login's tokens at the issuer (RFC 7009), then delete them."""
    issuer, entry = storage.entry()
    if not issuer:
        return "Not logged in."
    tokens, client = entry.get("tokens", {}), entry.get("client_info", {})
    async with httpx2.AsyncClient(timeout=10) as http:
        metadata = (await http.get(f"{issuer}/.well-known/oauth-authorization-server")).json()
        endpoint = metadata.get("revocation_endpoint")
        auth = (client["client_id"], client["client_secret"]) if client.get("client_secret") else None
        for kind in ("refresh_token", "access_token"):  # the refresh token first: it revokes its family
            if endpoint and tokens.get(kind):
                data = {"token": tokens[kind], "token_type_hint": kind}
                if auth is None:
                    data["client_id"] = client.get("client_id", "")
                response = await http.post(endpoint, data=data, auth=auth)
                logger.info("revoked %s: HTTP %d", kind, response.status_code)
    storage.forget()
    return f"Logged out of {issuer}: tokens revoked and deleted from {storage.path}."
