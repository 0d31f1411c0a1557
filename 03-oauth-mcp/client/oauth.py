"""OAuth for the client: what the SDK's `OAuthClientProvider` leaves to the application.

The SDK runs the protocol: the 401, discovery of the protected resource and of
its authorization server, registration, PKCE, `state`, `iss`, the `resource`
parameter, the token exchange, refresh and step-up. It needs four things only
an application can provide, and this module provides them:

- where tokens live: `FileTokenStorage`, one file, mode 0600, keyed by issuer;
- how the user reaches the authorization page: `open_browser`, which opens
  http(s) URLs only (never a shell) and always prints the URL too;
- where the authorization response comes back: `LoopbackCallback`, a one-shot
  web server on 127.0.0.1 serving the registered redirect URI;
- a refusal the SDK does not make: an authorization server that does not
  advertise PKCE S256 is not used (`check_metadata`);
- memory across runs: the SDK keeps the token's expiry and the discovered
  metadata in memory only. A new process would send an expired token, and then
  refresh it at `<MCP server>/token`, handing the *refresh token to the MCP
  server*. `RefreshingOAuthClientProvider` restores both from the token file,
  so the refresh goes to the issuer's real token endpoint.

`revoke` and `logout` end a login: tokens revoked at the issuer, then forgotten.
"""

import json
import logging
import os
import sys
import time
import webbrowser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
from mcp.client.auth import OAuthClientProvider, OAuthFlowError, TokenStorage
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthMetadata,
    OAuthToken,
    ProtectedResourceMetadata,
)

logger = logging.getLogger(__name__)

DEFAULT_TOKEN_FILE = Path.home() / ".local" / "state" / "mcp-workshop" / "oauth-tokens.json"
CALLBACK_TIMEOUT_SECONDS = 300.0


class FileTokenStorage(TokenStorage):
    """Client registrations and tokens in one JSON file, one entry per authorization server (issuer).

    The SDK asks for "the" tokens of the MCP server it talks to; the file
    remembers which issuer serves that resource, so a second MCP server trusting
    the same issuer reuses the registration, and credentials never cross issuers.
    """

    def __init__(self, path: Path, resource: str) -> None:
        self.path = path
        self.resource = resource

    def _load(self) -> dict[str, Any]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path.with_suffix(".tmp")
        # Created 0600 from the start: there is no moment when others can read the tokens.
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            json.dump(data, file, indent=2)
        temporary.replace(self.path)

    def entry(self) -> tuple[str | None, dict[str, Any]]:
        """The issuer serving our resource, and its entry."""
        for issuer, entry in self._load().items():
            if self.resource in entry.get("resources", []):
                return issuer, entry
        return None, {}

    def _update(self, issuer: str | None, **fields: Any) -> None:
        data = self._load()
        issuer = issuer or self.entry()[0] or "unknown-issuer"
        entry = data.setdefault(issuer, {"resources": []})
        if self.resource not in entry["resources"]:
            entry["resources"].append(self.resource)
        entry.update(fields)
        self._save(data)

    async def get_tokens(self) -> OAuthToken | None:
        tokens = self.entry()[1].get("tokens")
        return OAuthToken.model_validate(tokens) if tokens else None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        expires_at = time.time() + tokens.expires_in if tokens.expires_in else None
        self._update(None, tokens=tokens.model_dump(mode="json", exclude_none=True), expires_at=expires_at)

    def expires_at(self) -> float | None:
        return self.entry()[1].get("expires_at")

    def remember_metadata(self, issuer: str, **documents: dict[str, Any]) -> None:
        self._update(issuer, **documents)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        info = self.entry()[1].get("client_info")
        return OAuthClientInformationFull.model_validate(info) if info else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        info = client_info.model_dump(mode="json", exclude_none=True)
        self._update(client_info.issuer, client_info=info)

    def forget(self) -> None:
        data = self._load()
        issuer, _ = self.entry()
        if issuer:
            del data[issuer]
            self._save(data)


async def open_browser(url: str, use_browser: bool) -> None:
    """Send the user to the authorization page."""
    print(f"Open this URL in a browser to log in and consent:\n  {url}", file=sys.stderr, flush=True)
    # Only web URLs, and never through a shell: a malicious authorization
    # server could otherwise hand us `file:` or `javascript:` URLs.
    if use_browser and urlsplit(url).scheme in ("http", "https"):
        webbrowser.open(url)


class LoopbackCallback:
    """The redirect URI: a web server on 127.0.0.1 that waits for one authorization response."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.redirect_uri = f"http://127.0.0.1:{port}/callback"
        self.expected_issuer: str | None = None  # learnt from the metadata, see check_metadata

    async def wait(self) -> AuthorizationCodeResult:
        params: dict[str, str] = {}
        received = anyio.Event()

        async def handle(stream: anyio.abc.SocketStream) -> None:
            async with stream:
                request = b""
                while b"\r\n\r\n" not in request and len(request) < 16384:
                    request += await stream.receive()
                target = request.split(b" ", 2)[1].decode() if request.count(b" ") >= 2 else "/"
                if urlsplit(target).path != "/callback":  # a browser also asks for /favicon.ico
                    await stream.send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                params.update({key: values[0] for key, values in parse_qs(urlsplit(target).query).items()})
                page = b"<!doctype html><title>Done</title><p>Authorization received. You can close this window."
                await stream.send(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                    + f"Content-Length: {len(page)}\r\nConnection: close\r\n\r\n".encode()
                    + page
                )
                received.set()

        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=self.port)
        async with listener, anyio.create_task_group() as group:
            group.start_soon(listener.serve, handle)
            with anyio.fail_after(CALLBACK_TIMEOUT_SECONDS):
                await received.wait()
            group.cancel_scope.cancel()
        return self.result(params)

    def result(self, params: dict[str, str]) -> AuthorizationCodeResult:
        if "error" in params:
            # RFC 9207: an error from an issuer we did not talk to may be a mix-up
            # attack; do not show an attacker's text as if our server said it.
            if self.expected_issuer and params.get("iss") != self.expected_issuer:
                raise OAuthFlowError("Authorization response from an unexpected issuer: ignored")
            raise OAuthFlowError(f"Authorization refused: {params['error']} {params.get('error_description', '')}")
        # The SDK checks `state` and `iss` against what it sent and discovered.
        return AuthorizationCodeResult(code=params.get("code", ""), state=params.get("state"), iss=params.get("iss"))


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
