"""The authorization server as a real process, and a small OAuth client that drives it over plain HTTP.

One server per test module (module-scoped fixture), each with its own db in a temporary
directory, so modules run in parallel under xdist without sharing state.
"""

import base64
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import jwt
import pytest

REDIRECT_URI = "http://127.0.0.1:53682/callback"  # nothing listens there: the tests read the Location
DEFAULT_RESOURCE = "http://127.0.0.1:8095/mcp"
RS_AUTH = ("journal-mcp-server", "dev-resource-server-secret")
BOT_AUTH = ("journal-bot", "dev-journal-bot-secret")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def hidden_inputs(html: str) -> dict[str, str]:
    """What the lead's end-to-end tests do too: read the hidden fields with a regex."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


@dataclass
class Authorization:
    """One pass through /authorize: the form page, then the redirect back to the client."""

    page: httpx2.Response
    response: httpx2.Response | None = None  # the POST's answer
    verifier: str = ""
    state: str = ""

    @property
    def location(self) -> str:
        assert self.response is not None
        return self.response.headers["location"]

    @property
    def params(self) -> dict[str, str]:
        return query_of(self.location)


@dataclass
class OAuth:
    """Drives one authorization server like an MCP client would, one HTTP request per step."""

    base_url: str
    http: httpx2.Client = field(default_factory=lambda: httpx2.Client(timeout=10))

    # For the test modules, which get everything through fixtures (conftest is not importable
    # under --import-mode=importlib).
    REDIRECT_URI = REDIRECT_URI
    RESOURCE = DEFAULT_RESOURCE
    RS_AUTH = RS_AUTH
    BOT_AUTH = BOT_AUTH
    pkce_pair = staticmethod(pkce_pair)
    query_of = staticmethod(query_of)
    hidden_inputs = staticmethod(hidden_inputs)

    def metadata(self) -> dict[str, Any]:
        return self.http.get(f"{self.base_url}/.well-known/oauth-authorization-server").json()

    def register(self, redirect_uri: str = REDIRECT_URI, **metadata: Any) -> dict[str, Any]:
        body = {
            "redirect_uris": [redirect_uri],
            "client_name": "Test MCP client",
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
            "application_type": "native",
            **metadata,
        }
        response = self.http.post(f"{self.base_url}/register", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def authorize_url(self, client_id: str, **overrides: str | None) -> tuple[str, str, str]:
        """(url, verifier, state) for a valid request; overrides replace or (with None) drop parameters."""
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16)
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "scope": "journal:read",
            "resource": DEFAULT_RESOURCE,
            **overrides,
        }
        query = urlencode({key: value for key, value in params.items() if value is not None})
        return f"{self.base_url}/authorize?{query}", verifier, state

    def authorize(
        self,
        client_id: str,
        username: str = "alice",
        password: str = "wonderland",  # noqa: S107 (the seeded development user)
        decision: str = "approve",
        **overrides: str | None,
    ) -> Authorization:
        """GET the consent page, then POST the form with the hidden fields and the cookie."""
        url, verifier, state = self.authorize_url(client_id, **overrides)
        browser = httpx2.Client(timeout=10)  # its own cookie jar, like a browser
        page = browser.get(url)
        authorization = Authorization(page=page, verifier=verifier, state=state)
        if page.status_code != 200:
            return authorization
        form = {**hidden_inputs(page.text), "username": username, "password": password, "decision": decision}
        authorization.response = browser.post(f"{self.base_url}/authorize", data=form)
        return authorization

    def code_flow(self, client_id: str, **overrides: str | None) -> tuple[dict[str, Any], Authorization]:
        """Authorize and redeem the code: (token response JSON, the authorization)."""
        authorization = self.authorize(client_id, **overrides)
        assert authorization.response is not None and authorization.response.status_code == 302
        response = self.redeem(client_id, authorization.params["code"], authorization.verifier)
        assert response.status_code == 200, response.text
        return response.json(), authorization

    def redeem(self, client_id: str, code: str, verifier: str | None, **extra: str) -> httpx2.Response:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": client_id,
            "resource": DEFAULT_RESOURCE,
            **extra,
        }
        if verifier is not None:
            data["code_verifier"] = verifier
        return self.http.post(f"{self.base_url}/token", data=data)

    def refresh(self, client_id: str, refresh_token: str, **extra: str) -> httpx2.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id, **extra}
        return self.http.post(f"{self.base_url}/token", data=data)

    def introspect(self, token: str, auth: tuple[str, str] | None = RS_AUTH) -> httpx2.Response:
        return self.http.post(f"{self.base_url}/introspect", data={"token": token}, auth=auth)

    def active(self, token: str) -> bool:
        response = self.introspect(token)
        assert response.status_code == 200, response.text
        return response.json()["active"]

    def verify(self, access_token: str, audience: str = DEFAULT_RESOURCE) -> tuple[dict[str, Any], dict[str, Any]]:
        """(header, claims), checked the way a resource server checks them: PyJWT and the JWKS."""
        jwks = self.http.get(f"{self.base_url}/jwks.json").json()
        header = jwt.get_unverified_header(access_token)
        key = next(jwt.PyJWK(jwk) for jwk in jwks["keys"] if jwk["kid"] == header["kid"])
        claims = jwt.decode(
            access_token,
            key,
            algorithms=["ES256"],
            audience=audience,
            issuer=self.base_url,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "client_id", "jti", "scope"]},
        )
        return header, claims


@pytest.fixture(scope="module")
def auth_server(launch, tmp_path_factory) -> Iterator[Any]:
    """One authorization server per test module, with a fresh db."""
    db = tmp_path_factory.mktemp("auth_server") / "auth.db"
    with launch("auth_server", "--db", str(db)) as server:
        yield server


@pytest.fixture(scope="session")
def oauth_for() -> type[OAuth]:
    """`oauth_for(base_url)`: an OAuth helper for a server a test starts itself."""
    return OAuth


@pytest.fixture(scope="module")
def oauth(auth_server) -> Iterator[OAuth]:
    client = OAuth(auth_server.base_url)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def public_client(oauth) -> dict[str, Any]:
    """A public client registered the way the MCP SDK registers (DCR, native, no secret)."""
    return oauth.register()


class DocumentServer:
    """A tiny HTTP server on loopback that serves one JSON document: a client's metadata document."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {}
        self.status = 200  # anything else is sent with a Location header, as a redirect
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                body = json.dumps(outer.document).encode()
                self.send_response(outer.status)
                if outer.status != 200:
                    self.send_header("Location", outer.url(path="/elsewhere.json"))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str = "/oauth/client.json", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


@pytest.fixture(scope="module")
def document_server() -> Iterator[DocumentServer]:
    server = DocumentServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
