"""OAuth for the client: what the SDK's `OAuthClientProvider` leaves to the application.

The SDK runs the protocol: the 401, discovery of the protected resource and of its
authorization server (with the exact `issuer` check), registration, PKCE, `state`, `iss`,
the `resource` parameter, the token exchange, refresh and step-up. Beside this module live
where a login is kept (token_storage.py) and how the user reaches the authorization page and
comes back (callback.py). `CheckedOAuthProvider` adds what only an application can:

- a refusal the SDK does not make: no authorization without validated authorization server
  metadata that advertises PKCE S256, and a registration bound to that server;
- a pre-registered client's secret bound to its one issuer (`PreRegisteredClient`): the SDK sends
  a client's secret to whatever token endpoint it is using, and a malicious MCP server's own
  authorization server can register us under that very client_id;
- memory across runs, without trusting it: the SDK keeps discovered metadata in memory only,
  and a new process would refresh at `<MCP server>/token`, handing the refresh token to the
  MCP server. The stored login holds no metadata at all; at start the provider discovers
  again (`discover`), checks the resource still names the issuer the login belongs to, and
  only then lets a refresh go to that issuer's validated token endpoint. A registration that
  server no longer knows (`invalid_client`) is forgotten, and the login registers again;
- the browser round trip: the callback waits for the `state` this flow sent, and an error
  from the authorization server is shown only once `iss` proves which server sent it.

`logout` ends a login: tokens revoked at the issuer (its validated revocation endpoint), then forgotten.
"""

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

import httpx2
from mcp.client.auth import OAuthClientProvider, OAuthFlowError, OAuthTokenError
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    create_oauth_metadata_request,
    handle_auth_metadata_response,
    handle_protected_resource_response,
    issuers_match,
    union_scopes,
    validate_authorization_response_iss,
    validate_metadata_issuer,
)
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthMetadata,
    ProtectedResourceMetadata,
)
from mcp.shared.auth_utils import check_resource_allowed, resource_url_from_server_url

from ..safe_output import printable
from .callback import LoopbackCallback, open_browser
from .token_storage import FileTokenStorage, MemoryTokenStorage

logger = logging.getLogger(__name__)
DISCOVERY_TIMEOUT_SECONDS = 10


async def discover(
    http: httpx2.AsyncClient, server_url: str, issuer: str
) -> tuple[ProtectedResourceMetadata, OAuthMetadata]:
    """The resource's metadata and its authorization server's, validated as the SDK validates them.

    Fails unless the resource's metadata names `issuer` as its authorization server and the
    issuer's own metadata names itself exactly (RFC 8414 §3.3).
    """
    for url in build_protected_resource_metadata_discovery_urls(None, server_url):
        if prm := await handle_protected_resource_response(await http.send(create_oauth_metadata_request(url))):
            break
    else:
        raise OAuthFlowError(f"no protected resource metadata for {server_url}")
    if prm.resource and not check_resource_allowed(resource_url_from_server_url(server_url), str(prm.resource)):
        raise OAuthFlowError(f"the metadata at {server_url} describes another resource, {prm.resource}")
    if not any(issuers_match(str(server), issuer) for server in prm.authorization_servers):
        raise OAuthFlowError(f"{server_url} no longer names {issuer} as its authorization server")
    for url in build_oauth_authorization_server_metadata_discovery_urls(issuer, server_url):
        found, metadata = await handle_auth_metadata_response(await http.send(create_oauth_metadata_request(url)))
        if not found:
            break
        if metadata is not None:
            validate_metadata_issuer(metadata, issuer)
            return prm, metadata
    raise OAuthFlowError(f"no authorization server metadata for {issuer}")


@dataclass(frozen=True, kw_only=True)
class PreRegisteredClient:
    """A client an administrator registered at the authorization server (no dynamic registration):
    its id, its secret if it is confidential, and the one issuer both belong to (SEP-2352)."""

    client_id: str
    client_secret: str | None = None
    issuer: str

    def belongs_to(self, metadata: OAuthMetadata) -> bool:
        """Whether `metadata`, validated by discovery, is that of this client's issuer (RFC 8414 §3.3)."""
        return issuers_match(str(metadata.issuer), self.issuer)

    def owns(self, stored: OAuthClientInformationFull | None) -> bool:
        """Whether a stored registration is this client's, at its issuer: one made at another server is
        that server's client, even with the same client_id (a malicious server hands out ours)."""
        return (
            stored is not None
            and stored.client_id == self.client_id
            and stored.issuer is not None
            and issuers_match(stored.issuer, self.issuer)
        )

    def information(self, redirect_uri: str, metadata: OAuthMetadata | None) -> OAuthClientInformationFull:
        """The SDK's view of this client; a secret is sent the way the server's metadata allows.

        The SDK sends a client's secret to the token endpoint of whatever metadata it holds, so the
        secret is in this view only for the validated metadata of this client's own issuer: never
        for another server, whatever client_id that server hands out."""
        method, secret = "none", None
        if self.client_secret and metadata is not None and self.belongs_to(metadata):
            # RFC 8414 §2: an absent list means client_secret_basic only.
            supported = metadata.token_endpoint_auth_methods_supported or ["client_secret_basic"]
            method = next((m for m in ("client_secret_basic", "client_secret_post") if m in supported), None)
            if method is None:
                raise OAuthFlowError(f"{metadata.issuer} accepts no client secret this client can send")
            secret = self.client_secret
        return OAuthClientInformationFull(
            client_id=self.client_id,
            client_secret=secret,
            redirect_uris=[redirect_uri],
            token_endpoint_auth_method=method,
            issuer=self.issuer,
        )


class CheckedOAuthProvider(OAuthClientProvider):
    """The SDK's provider for the authorization code flow, with the checks it leaves to the application."""

    def __init__(
        self,
        server_url: str,
        client_metadata: OAuthClientMetadata,
        storage: FileTokenStorage,
        callback: LoopbackCallback,
        *,
        open_page: Callable[[str], Awaitable[None]],
        client_metadata_url: str | None = None,
        preregistered: PreRegisteredClient | None = None,
        scope: str | None = None,
    ) -> None:
        super().__init__(
            server_url,
            client_metadata,
            storage,
            redirect_handler=self._send_user,
            callback_handler=self._await_user,
            client_metadata_url=client_metadata_url,
        )
        self.storage, self.callback = storage, callback
        self.open_page = open_page  # how the user gets to the authorization page: a browser, usually
        self.preregistered, self.scope = preregistered, scope  # scope: asked for beyond what challenges ask
        self._state = ""  # the `state` of the authorization request in flight

    async def _initialize(self) -> None:
        """Load the stored login, and learn again, validated, where it may be refreshed."""
        await super()._initialize()
        self._choose_client()
        tokens, issuer = self.context.current_tokens, self.storage.issuer()
        if tokens is None or issuer is None:
            return
        self.context.token_expiry_time = self.storage.expires_at()
        try:
            async with httpx2.AsyncClient(timeout=DISCOVERY_TIMEOUT_SECONDS) as http:
                resource_metadata, issuer_metadata = await discover(http, self.context.server_url, issuer)
        except OAuthFlowError as problem:
            # The resource now trusts another server, or lies: its stored tokens are sent nowhere.
            logger.warning("discarding the stored login: %s", problem)
            self.context.clear_tokens()
            return
        except (httpx2.HTTPError, ValueError) as problem:
            # Cannot confirm where to refresh: use the access token while valid, log in again after.
            logger.info("cannot rediscover %s (%s): no refresh this run", issuer, type(problem).__name__)
            tokens.refresh_token = None
            return
        self.context.protected_resource_metadata = resource_metadata
        self.context.auth_server_url = issuer
        self.context.oauth_metadata = issuer_metadata
        if self.preregistered:
            self.context.client_info = self.preregistered.information(self.callback.redirect_uri, issuer_metadata)

    def _choose_client(self) -> None:
        """Which client this login uses: the pre-registered one, a metadata document, or a stored registration."""
        stored, tokens = self.context.client_info, self.context.current_tokens
        if self.preregistered:
            if not self.preregistered.owns(stored):
                self.context.current_tokens = None  # another client's tokens: not this client's to refresh
            self.context.client_info = self.preregistered.information(self.callback.redirect_uri, None)
        elif stored is not None and tokens is None:
            document = self.context.client_metadata_url
            if document and stored.client_id != document:
                self.context.client_info = None  # a metadata document is preferred to a registration
            elif self.callback.redirect_uri not in map(str, stored.redirect_uris or []):
                self.context.client_info = None  # registered for another --callback-port: register again

    def _select_authorization_server(self, advertised: list[str]) -> str:
        # A pre-registered client belongs to one issuer: use it where the resource lists several, and
        # refuse a resource that lists it not at all, before registering anywhere else (the SDK would).
        if self.preregistered:
            for server in advertised:
                if issuers_match(server, self.preregistered.issuer):
                    return server
            raise OAuthFlowError(
                f"{self.context.server_url} trusts {', '.join(advertised)}, not {self.preregistered.issuer}, "
                f"where {self.preregistered.client_id} is registered: refusing to log in there"
            )
        return super()._select_authorization_server(advertised)

    async def _refresh_token(self) -> httpx2.Request:
        # Never let the SDK guess the token endpoint (it would fall back to the MCP server's origin),
        # nor refresh a pre-registered client anywhere but at its own issuer.
        metadata = self.context.oauth_metadata
        if metadata is None or metadata.token_endpoint is None:
            raise OAuthTokenError("refusing to refresh without the issuer's validated metadata")
        if self.preregistered and not self.preregistered.belongs_to(metadata):
            raise OAuthTokenError(f"{self.preregistered.client_id} refreshes at {self.preregistered.issuer} only")
        return await super()._refresh_token()

    async def _handle_refresh_response(self, response: httpx2.Response) -> bool:
        refreshed = await super()._handle_refresh_response(response)
        if not refreshed and not self.preregistered and await refused_client(response):
            # The authorization server no longer knows this registration (it was restarted on a new
            # database, say): reusing it would send the user to a page that can only refuse. Forget
            # it, so the login that follows registers again, once.
            logger.warning("%s refused this client's registration (invalid_client): registering again", response.url)
            self.context.client_info = None
            self.storage.forget()
        return refreshed

    async def _perform_authorization(self) -> httpx2.Request:
        """Refuse before the user is sent anywhere, unless discovery validated a server we can use safely."""
        metadata, client = self.context.oauth_metadata, self.context.client_info
        if metadata is None:
            raise OAuthFlowError("no authorization server metadata was found: refusing to guess its endpoints")
        if "S256" not in (metadata.code_challenge_methods_supported or []):
            # The MCP spec: a client MUST refuse when code_challenge_methods_supported lacks S256.
            raise OAuthFlowError(f"{metadata.issuer} does not advertise PKCE S256: refusing to use it")
        if client is None or client.issuer is None or not issuers_match(client.issuer, str(metadata.issuer)):
            raise OAuthFlowError(f"the client registration is not bound to {metadata.issuer}: refusing to use it")
        if self.preregistered:
            # Its id and secret go to its own issuer only: never on the strength of a client_id that
            # another server handed out (a malicious one would hand out ours).
            if not self.preregistered.belongs_to(metadata):
                raise OAuthFlowError(
                    f"{self.preregistered.client_id} is registered at {self.preregistered.issuer} only, "
                    f"not at {metadata.issuer}"
                )
            self.context.client_info = self.preregistered.information(self.callback.redirect_uri, metadata)
            # Kept for the next run without its secret: that comes from the command line (or environment).
            await self.storage.set_client_info(self.context.client_info.model_copy(update={"client_secret": None}))
        if self.scope:
            self.context.client_metadata.scope = union_scopes(self.context.client_metadata.scope, self.scope)
        return await super()._perform_authorization()

    async def _send_user(self, authorization_url: str) -> None:
        self._state = parse_qs(urlsplit(authorization_url).query).get("state", [""])[0]
        await self.callback.open()
        await self.open_page(authorization_url)

    async def _await_user(self) -> AuthorizationCodeResult:
        params = await self.callback.wait(self._state)
        if "error" in params:
            # RFC 9207: an error from a server we did not send the user to may be a mix-up
            # attack; show no text of it unless `iss` proves who answered.
            try:
                validate_authorization_response_iss(params.get("iss"), self.context.oauth_metadata)
            except OAuthFlowError:
                raise OAuthFlowError("an authorization error from an unexpected issuer: ignored") from None
            description = params.get("error_description", "")
            raise OAuthFlowError(f"Authorization refused: {printable(params['error'])} {printable(description)}")
        # The SDK checks `state` again, then `iss`, then redeems the code.
        return AuthorizationCodeResult(code=params.get("code", ""), state=params.get("state"), iss=params.get("iss"))


async def refused_client(response: httpx2.Response) -> bool:
    """Whether a token endpoint answered `invalid_client` (RFC 6749 §5.2): it does not know this client."""
    if response.status_code not in (400, 401):
        return False
    try:
        return json.loads(await response.aread()).get("error") == "invalid_client"
    except (ValueError, AttributeError):  # not JSON, or not an object
        return False


def client_metadata(callback: LoopbackCallback) -> OAuthClientMetadata:
    """What this client registers (dynamic registration): a public client, since a CLI cannot keep a secret."""
    return OAuthClientMetadata(
        client_name="MCP workshop client (lesson 03)",
        redirect_uris=[callback.redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",  # noqa: S106 -- the name of a method, not a secret
    )


def build_auth(
    server_url: str,
    storage: FileTokenStorage,
    callback: LoopbackCallback,
    *,
    use_browser: bool,
    client_metadata_url: str | None = None,
    preregistered: PreRegisteredClient | None = None,
    scope: str | None = None,
) -> CheckedOAuthProvider:
    """The authorization code flow for a user of this command line: PKCE, a loopback redirect, and a client
    that is registered dynamically (a public client), described by a metadata document, or pre-registered."""
    return CheckedOAuthProvider(
        server_url,
        client_metadata(callback),
        storage,
        callback,
        open_page=lambda url: open_browser(url, use_browser),
        client_metadata_url=client_metadata_url,
        preregistered=preregistered,
        scope=scope,
    )


def build_machine_auth(
    server_url: str, *, client_id: str, client_secret: str, issuer: str, scope: str | None = None
) -> httpx2.Auth:
    """Client credentials for a machine: no user, no browser, tokens kept in memory for this run."""
    # `issuer` pins where the secret may go: an MCP server naming another
    # authorization server cannot make us send it there.
    return ClientCredentialsOAuthProvider(
        server_url, MemoryTokenStorage(), client_id, client_secret, scope=scope, issuer=issuer
    )


async def logout(storage: FileTokenStorage, server_url: str, preregistered: PreRegisteredClient | None = None) -> str:
    """Revoke this login's tokens at its issuer (RFC 7009), then delete them.

    A confidential client authenticates with its secret: a pre-registered one's comes from the
    command line, since it is never stored, and goes only to the issuer it belongs to."""
    issuer, entry = storage.issuer(), storage.entry()
    if issuer is None or "tokens" not in entry:
        storage.forget()
        return "Not logged in."
    tokens, client = entry["tokens"], entry["client_info"]
    async with httpx2.AsyncClient(timeout=DISCOVERY_TIMEOUT_SECONDS) as http:
        try:
            _, metadata = await discover(http, server_url, issuer)
            endpoint = str(metadata.revocation_endpoint) if metadata.revocation_endpoint else None
        except (OAuthFlowError, httpx2.HTTPError, ValueError) as problem:
            logger.warning("cannot find %s's revocation endpoint (%s): forgetting the tokens only", issuer, problem)
            endpoint = None
        secret = client.get("client_secret")  # one this issuer gave the client when it registered, if any
        if preregistered and preregistered.owns(await storage.get_client_info()) and endpoint:
            secret = preregistered.client_secret  # its issuer's validated endpoint, and no other
        # RFC 6749 §2.3.1: each part form-urlencoded before it goes into HTTP Basic.
        auth = (quote(client["client_id"], safe=""), quote(secret, safe="")) if secret else None
        for kind in ("refresh_token", "access_token"):  # the refresh token first: it revokes its family
            if endpoint and tokens.get(kind):
                data = {"token": tokens[kind], "token_type_hint": kind}
                if auth is None:
                    data["client_id"] = client["client_id"]
                response = await http.post(endpoint, data=data, auth=auth)
                logger.info("revoked %s: HTTP %d", kind, response.status_code)
    storage.forget()
    revoked = "revoked and deleted" if endpoint else "deleted (not revoked)"
    return f"Logged out of {issuer}: tokens {revoked} from {storage.path}."
