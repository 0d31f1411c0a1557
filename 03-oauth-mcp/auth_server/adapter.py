"""Authlib ↔ Starlette: Authlib ships server integrations for Flask and Django only.

Authlib's server core is synchronous and framework-free: it reads an `OAuth2Request` and returns
`(status, body, headers)`. Reading a Starlette request body is asynchronous, so the routes
`await` the form first and wrap it here; then they call Authlib in a worker thread, where its
blocking work (password hashes, the database) holds up no other request.
"""

from collections import defaultdict
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from starlette.datastructures import Headers, MultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class FormPayload(OAuth2Payload):
    """Request parameters: the query string of GET /authorize, or the urlencoded body of a POST."""

    def __init__(self, params: MultiDict) -> None:
        self._params = params

    @property
    def data(self) -> dict[str, str]:
        return dict(self._params)

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        # Authlib rejects repeated parameters (RFC 6749 §3.1) by looking here.
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in self._params.multi_items():
            values[key].append(value)
        return values


class StarletteOAuth2Request(OAuth2Request):
    # RFC 8707: the resource the token will be for, once a grant has checked it.
    resource: str | None = None

    def __init__(self, method: str, uri: str, headers: Headers, params: MultiDict, address: str) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = FormPayload(params)
        self._params = params
        self.address = address  # the client's network address (what a guard counts per: guard.py)

    @property
    def args(self) -> dict[str, str]:
        return dict(self._params)

    @property
    def form(self) -> dict[str, str]:
        return dict(self._params)


async def oauth2_request(request: Request, issuer: str, params: MultiDict | None = None) -> StarletteOAuth2Request:
    """Wrap a request for Authlib. `params` defaults to the query (GET) or the form body (POST).

    The headers stay Starlette's case-insensitive mapping: Authlib asks for "Authorization".

    The URI Authlib sees is built from the issuer, not from the socket: behind a TLS-terminating
    proxy the request arrives as http, yet the server's identity is the https issuer.
    """
    if params is None:
        # Token, revocation and introspection parameters belong in the body, never the URL
        # (OAuth 2.1 §3.2.2), where they would end up in logs.
        params = request.query_params if request.method == "GET" else MultiDict(await _form_items(request))
    address = client_address(request)
    return StarletteOAuth2Request(request.method, issuer + request.url.path, request.headers, params, address)


def client_address(request: Request) -> str:
    # The peer of the TCP connection. Behind a reverse proxy this is the proxy, for every user.
    return request.client.host if request.client else "unknown"


async def _form_items(request: Request) -> list[tuple[str, str]]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return []  # missing parameters then yield the OAuth error the RFC names
    form = await request.form()
    return [(key, value) for key, value in form.multi_items() if isinstance(value, str)]


def to_response(status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
    """Authlib's (status, body, headers) as a Starlette response."""
    if isinstance(body, dict):
        # Token and error bodies carry Cache-Control: no-store from Authlib's default headers.
        response: Response = JSONResponse(body, status_code=status)
    else:
        response = Response(body or b"", status_code=status)
    for name, value in headers:
        response.headers[name] = value
    return response
