"""DELIBERATELY VULNERABLE: OAuth before PKCE, a client that sends none, at an authorization server that lets it.

One flaw in two halves, kept here together:

- `PlainClient`, a public OAuth 2.0 client: no PKCE, no `state`, a fixed port for its redirect URI,
  and it listens there only once the user is on the way (many do: open the browser, then start
  the little server). Whoever listens on that port first gets the code.
- `pkce_optional()`: lesson 03's authorization server built with Authlib's default in place of its
  own `S256Required`: a request without `code_challenge` gets a code all the same, and the code is
  redeemed with no verifier. So whoever holds the code holds the login.

Do not use it for anything but this lab.
"""

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import Any
from urllib.parse import urlencode

import httpx2

variant = import_module("03-oauth-mcp.labs.variant")

FLAW = "a client with no PKCE and no state, on a port it takes late, at an authorization server that lets it"


@contextmanager
def pkce_optional() -> Iterator[None]:
    """While the block runs, lesson 03's authorization server is built with Authlib's PKCE, which is optional."""
    from authlib.oauth2.rfc7636 import CodeChallenge
    from starlette.datastructures import MultiDict

    variant.announce("localhost_redirect", FLAW)
    oauth = import_module("03-oauth-mcp.auth_server.oauth")

    class OptionalPKCE(CodeChallenge):
        def __init__(self, required: bool = True) -> None:
            super().__init__(required=False)  # Authlib's own choice: a request without PKCE passes

    class AnyCodeGrant(oauth.AuthorizationCodeGrant):
        def save_authorization_code(self, code: str, request: Any) -> None:
            unbound = {"code_challenge": "", "code_challenge_method": ""}  # none was sent: the code is bound to nothing
            request.payload = type(request.payload)(MultiDict({**unbound, **request.payload.data}))
            super().save_authorization_code(code, request)

    kept = oauth.S256Required, oauth.AuthorizationCodeGrant
    oauth.S256Required, oauth.AuthorizationCodeGrant = OptionalPKCE, AnyCodeGrant
    try:
        yield
    finally:
        oauth.S256Required, oauth.AuthorizationCodeGrant = kept


class PlainClient:
    """An OAuth 2.0 public client of `issuer`, for `resource`, whose redirect URI is on 127.0.0.1:`port`."""

    def __init__(self, issuer: str, resource: str, port: int, http: httpx2.Client) -> None:
        variant.announce("localhost_redirect", FLAW)
        self.issuer, self.resource, self.port = issuer, resource, port
        self.redirect_uri = f"http://127.0.0.1:{port}/callback"
        registration = {"client_name": "An OAuth 2.0 client", "redirect_uris": [self.redirect_uri]}
        registered = http.post(f"{issuer}/register", json={**registration, "token_endpoint_auth_method": "none"})
        self.client_id = registered.json()["client_id"]

    def log_in(self, open_page: Callable[[str], None]) -> str:
        """Send the user to log in, then listen for the code: what became of it, in a few words."""
        query = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri}
        open_page(f"{self.issuer}/authorize?{urlencode({**query, 'resource': self.resource})}")  # no PKCE, no state
        with socket.socket() as listener:
            try:
                listener.bind(("127.0.0.1", self.port))
            except OSError as error:
                return f"cannot listen on its port: {error.strerror}; the code went elsewhere"
        return "listening"


if __name__ == "__main__":
    variant.not_a_program("localhost_redirect", FLAW)
