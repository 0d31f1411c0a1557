"""The MCP SDK's own OAuth clients against this server, the interoperability that matters.

The resource server here is a stand-in inside the test (an httpx2 mock transport): it answers
401 with protected resource metadata until it gets a JWT whose `aud` is itself. Everything the
SDK sends to the authorization server goes over real HTTP to the real process.
"""

import time
from typing import Any

import httpx2
import jwt
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

from lesson03.machine_client.token_storage import MemoryTokenStorage

RESOURCE = "http://127.0.0.1:8095/mcp"  # the default --resource; nothing listens there
PRM_URL = "http://127.0.0.1:8095/.well-known/oauth-protected-resource/mcp"


class ResourceServerStandIn(httpx2.AsyncBaseTransport):
    """Requests to 127.0.0.1:8095 are answered here; all others go to the network."""

    def __init__(self, oauth: Any) -> None:
        self.oauth = oauth
        self.network = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.port != 8095:
            return await self.network.handle_async_request(request)
        if request.url.path == "/.well-known/oauth-protected-resource/mcp":
            prm = {
                "resource": RESOURCE,
                "authorization_servers": [self.oauth.base_url],
                "scopes_supported": ["journal:read"],
            }
            return httpx2.Response(200, json=prm)
        authorization = request.headers.get("authorization", "")
        try:
            _, claims = self.oauth.verify(authorization.removeprefix("Bearer "), audience=RESOURCE)
        except jwt.PyJWTError:  # no token or an invalid one: 401, like a real resource server
            return httpx2.Response(401, headers={"WWW-Authenticate": f'Bearer resource_metadata="{PRM_URL}"'})
        return httpx2.Response(200, json={"sub": claims["sub"], "scope": claims["scope"]})

    async def aclose(self) -> None:
        await self.network.aclose()


class Browser:
    """The user: opens the authorization URL, approves as alice, and hands the redirect to the client."""

    def __init__(self, oauth: Any) -> None:
        self.oauth = oauth
        self.visits = 0
        self.params: dict[str, str] = {}

    async def open(self, url: str) -> None:
        self.visits += 1
        async with httpx2.AsyncClient(timeout=10) as browser:
            page = await browser.get(url)
            assert page.status_code == 200, page.text
            form = {**self.oauth.hidden_inputs(page.text), "username": "alice", "password": "wonderland"}
            answer = await browser.post(f"{self.oauth.base_url}/authorize", data={**form, "decision": "approve"})
        assert answer.status_code == 302
        self.params = self.oauth.query_of(answer.headers["location"])

    async def callback(self) -> AuthorizationCodeResult:
        return AuthorizationCodeResult(**self.params)


@pytest.mark.anyio
async def test_sdk_client_registers_authorizes_and_refreshes(oauth) -> None:
    browser, storage = Browser(oauth), MemoryTokenStorage()
    provider = OAuthClientProvider(
        server_url=RESOURCE,
        client_metadata=OAuthClientMetadata(
            client_name="SDK test client",
            redirect_uris=[oauth.REDIRECT_URI],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=browser.open,
        callback_handler=browser.callback,
    )
    async with httpx2.AsyncClient(auth=provider, transport=ResourceServerStandIn(oauth), timeout=10) as client:
        response = await client.get(RESOURCE)
        assert response.status_code == 200
        assert response.json() == {"sub": "alice", "scope": "journal:read"}
        assert browser.visits == 1
        assert storage.client_info.client_secret is None  # registered as a public client (DCR)
        assert browser.params["iss"] == oauth.base_url  # the SDK checked it against the metadata
        first_refresh_token = storage.tokens.refresh_token

        # Let the access token expire in the client's eyes: it refreshes, without the browser.
        provider.context.token_expiry_time = time.time() - 1
        response = await client.get(RESOURCE)
        assert response.status_code == 200
        assert browser.visits == 1
        assert storage.tokens.refresh_token != first_refresh_token  # rotated


@pytest.mark.anyio
async def test_sdk_client_credentials_provider(oauth) -> None:
    client_id, secret = oauth.BOT_AUTH
    for method in ("client_secret_basic", "client_secret_post"):
        provider = ClientCredentialsOAuthProvider(
            server_url=RESOURCE,
            storage=MemoryTokenStorage(),
            client_id=client_id,
            client_secret=secret,
            token_endpoint_auth_method=method,
            issuer=oauth.base_url,
        )
        async with httpx2.AsyncClient(auth=provider, transport=ResourceServerStandIn(oauth), timeout=10) as client:
            response = await client.get(RESOURCE)
        assert response.status_code == 200, method
        assert response.json() == {"sub": "journal-bot", "scope": "journal:read"}
