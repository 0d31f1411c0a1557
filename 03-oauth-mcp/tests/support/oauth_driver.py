"""An OAuth client and a user's browser, played over plain HTTP against lesson 03's authorization server.

It stands in for an MCP client (registration, PKCE, the token endpoint) and for the user (the
consent form, filled in with the hidden fields and the cookie), one HTTP request per step, so a
test can change any one of them. `OAuth(base_url, address="127.0.0.2")` sends everything from
another loopback address: to the server's throttles (counted per address), another machine.
"""

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import jwt

REDIRECT_URI = "http://127.0.0.1:53682/callback"  # nothing listens there: the tests read the Location
DEFAULT_RESOURCE = "http://127.0.0.1:8095/mcp"  # the server's default --resource
RS_AUTH = ("journal-mcp-server", "dev-resource-server-secret")  # seeded (auth_server/seed.py)
BOT_AUTH = ("journal-bot", "dev-journal-bot-secret")
USER = ("alice", "wonderland")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def hidden_inputs(html: str) -> dict[str, str]:
    """The form's hidden fields (request_id, csrf_token), read with a regex as a minimal browser would."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


@dataclass
class Authorization:
    """One pass through /authorize: the form page, then the redirect back to the client."""

    page: httpx2.Response
    browser: httpx2.Client  # its cookie jar holds the browser cookie
    response: httpx2.Response | None = None  # the POST's answer
    verifier: str = ""
    state: str = ""

    @property
    def form(self) -> dict[str, str]:
        return hidden_inputs(self.page.text)

    @property
    def location(self) -> str:
        assert self.response is not None
        return self.response.headers["location"]

    @property
    def params(self) -> dict[str, str]:
        return query_of(self.location)


@dataclass
class OAuth:
    """Drives one authorization server as an MCP client and its user would, one HTTP request per step."""

    base_url: str
    address: str | None = None  # the loopback address requests come from; None: the system's choice
    http: httpx2.Client = field(init=False)

    # The values tests compare against, at hand wherever the driver is.
    REDIRECT_URI = REDIRECT_URI
    RESOURCE = DEFAULT_RESOURCE
    RS_AUTH = RS_AUTH
    BOT_AUTH = BOT_AUTH
    pkce_pair = staticmethod(pkce_pair)
    query_of = staticmethod(query_of)
    hidden_inputs = staticmethod(hidden_inputs)

    def __post_init__(self) -> None:
        self.http = self.browser()

    def browser(self) -> httpx2.Client:
        """A new HTTP client with its own cookie jar, like a browser, from this driver's address."""
        transport = httpx2.HTTPTransport(local_address=self.address) if self.address else None
        return httpx2.Client(timeout=10, transport=transport)

    def close(self) -> None:
        self.http.close()

    def metadata(self) -> dict[str, Any]:
        return self.http.get(f"{self.base_url}/.well-known/oauth-authorization-server").json()

    def register_response(self, redirect_uri: str = REDIRECT_URI, **metadata: Any) -> httpx2.Response:
        body = {
            "redirect_uris": [redirect_uri],
            "client_name": "Test MCP client",
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
            "application_type": "native",
            **metadata,
        }
        return self.http.post(f"{self.base_url}/register", json=body)

    def register(self, redirect_uri: str = REDIRECT_URI, **metadata: Any) -> dict[str, Any]:
        response = self.register_response(redirect_uri, **metadata)
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

    def open_consent(self, client_id: str, **overrides: str | None) -> Authorization:
        """GET the consent page in a new browser."""
        url, verifier, state = self.authorize_url(client_id, **overrides)
        browser = self.browser()
        return Authorization(page=browser.get(url), browser=browser, verifier=verifier, state=state)

    def answer(
        self, authorization: Authorization, username: str = USER[0], password: str = USER[1], decision: str = "approve"
    ) -> httpx2.Response:
        """POST the consent form with the page's hidden fields, from the browser that opened it."""
        form = {**authorization.form, "username": username, "password": password, "decision": decision}
        authorization.response = authorization.browser.post(f"{self.base_url}/authorize", data=form)
        return authorization.response

    def authorize(
        self,
        client_id: str,
        username: str = USER[0],
        password: str = USER[1],
        decision: str = "approve",
        **overrides: str | None,
    ) -> Authorization:
        """Open the consent page, then answer it (unless the page is an error)."""
        authorization = self.open_consent(client_id, **overrides)
        if authorization.page.status_code == 200:
            self.answer(authorization, username, password, decision)
        return authorization

    def code_flow(self, client_id: str, **overrides: str | None) -> tuple[dict[str, Any], Authorization]:
        """Authorize and redeem the code: (token response JSON, the authorization)."""
        authorization = self.authorize(client_id, **overrides)
        assert authorization.response is not None and authorization.response.status_code == 302, authorization.page
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

    def client_credentials(self, auth: tuple[str, str] = BOT_AUTH, **data: str) -> httpx2.Response:
        return self.http.post(f"{self.base_url}/token", data={"grant_type": "client_credentials", **data}, auth=auth)

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
