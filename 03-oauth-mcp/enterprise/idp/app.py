"""The IdP's routes: metadata and keys, the sign-in page, and the token endpoint.

| Method   | Path                                    | What                                              |
|----------|-----------------------------------------|---------------------------------------------------|
| GET      | /.well-known/openid-configuration       | OpenID Connect discovery (and the RFC 8414 path)  |
| GET      | /jwks.json                              | the public key ID tokens and ID-JAGs verify with  |
| GET/POST | /authorize                              | the sign-in page, then back to the application    |
| POST     | /token                                  | the code for an ID token; an ID token for an ID-JAG |
| GET      | /healthz                                | -                                                 |

The sign-in page is the lesson's consent page pared down: the request is validated first (an
unknown application or redirect URI gets an error page here, never a redirect), then kept under a
random id with a CSRF token, bound to this browser by a cookie this IdP chose; the form's answer
must bring all three back. Every redirect back carries `iss` (RFC 9207).
"""

import html
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import anyio
from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import MultiDict

from ...auth_server.adapter import oauth2_request
from ...auth_server.pages import page_headers
from .directory import Directory
from .oauth import ALGORITHM, ID_JAG_TOKEN_TYPE, TOKEN_EXCHANGE, IdentityProvider, User

SIGN_IN_TTL = 600  # how long the sign-in page stays valid
MAX_PENDING = 1000  # sign-ins kept at once: GET /authorize is anonymous, so the oldest makes room
COOKIE = "idp_browser"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingSignIn:
    params: list[tuple[str, str]]
    csrf_token: str
    browser: str
    expires_at: float


def metadata(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks.json",
        "scopes_supported": ["openid"],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "grant_types_supported": ["authorization_code", TOKEN_EXCHANGE],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        # draft-ietf-oauth-identity-assertion-authz-grant: what it exchanges ID tokens for.
        "identity_chaining_requested_token_types_supported": [ID_JAG_TOKEN_TYPE],
    }


def create_app(issuer: str, directory: Directory) -> FastAPI:
    idp = IdentityProvider(issuer, directory)
    pending: dict[str, PendingSignIn] = {}  # request id -> the sign-in waiting for its form, oldest first
    app = FastAPI(title="Enterprise identity provider", docs_url=None, redoc_url=None, openapi_url=None)
    document = metadata(issuer)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/.well-known/openid-configuration")
    @app.get("/.well-known/oauth-authorization-server")
    async def well_known() -> dict[str, Any]:
        return document

    @app.get("/jwks.json")
    async def jwks() -> dict[str, Any]:
        return {"keys": [idp.key.as_dict(private=False)]}

    @app.get("/authorize")
    async def sign_in_page(request: Request) -> Response:
        oauth_request = await oauth2_request(request, issuer)
        try:
            grant = idp.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            return refusal(idp, oauth_request, error)
        for request_id in [key for key, kept in pending.items() if kept.expires_at < time.monotonic()]:
            del pending[request_id]
        while len(pending) >= MAX_PENDING:
            del pending[next(iter(pending))]
        request_id, csrf_token, browser = (secrets.token_urlsafe(24) for _ in range(3))
        params = list(request.query_params.multi_items())
        pending[request_id] = PendingSignIn(params, csrf_token, browser, time.monotonic() + SIGN_IN_TTL)
        response = page(grant.client.client_id, request_id, csrf_token)
        response.set_cookie(COOKIE, browser, max_age=SIGN_IN_TTL, path="/authorize", httponly=True, samesite="lax")
        return response

    @app.post("/authorize")
    async def sign_in(request: Request) -> Response:
        form = await request.form()
        kept = pending.get(str(form.get("request_id", "")))
        if (
            kept is None
            or kept.expires_at < time.monotonic()
            or not secrets.compare_digest(str(form.get("csrf_token", "")), kept.csrf_token)
            or not secrets.compare_digest(request.cookies.get(COOKIE, ""), kept.browser)
        ):
            return error_page("This sign-in has expired, or did not start in this browser. Start again.", 400)
        oauth_request = await oauth2_request(request, issuer, params=MultiDict(kept.params))
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        user = None
        if form.get("decision") == "approve":
            if not await anyio.to_thread.run_sync(directory.check_password, username, password):
                logger.info("a failed sign-in as %r", username)
                return page(oauth_request.payload.client_id, str(form["request_id"]), kept.csrf_token, failed=True)
            user = User(username)
        del pending[str(form["request_id"])]  # answered: once
        try:
            grant = idp.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            return refusal(idp, oauth_request, error)
        logger.info("%s signed in to %s", username if user else "nobody", grant.client.client_id)
        return with_issuer(idp.create_authorization_response(oauth_request, user, grant), issuer)

    @app.post("/token")
    async def token(request: Request) -> Response:
        oauth_request = await oauth2_request(request, issuer)
        return await anyio.to_thread.run_sync(idp.create_token_response, oauth_request)  # scrypt: off the loop

    return app


def refusal(idp: IdentityProvider, oauth_request: Any, error: OAuth2Error) -> Response:
    if error.redirect_uri:  # application and redirect URI verified: the application hears about it
        return with_issuer(idp.handle_error_response(oauth_request, error), idp.issuer)
    return error_page(f"{error.error}: {error.description or ''}", 400)  # never a redirect to an unverified URI


def with_issuer(response: Response, issuer: str) -> Response:
    if location := response.headers.get("location"):
        response.headers["location"] = add_params_to_uri(location, [("iss", issuer)])
    return response


def page(client_id: str, request_id: str, csrf_token: str, failed: bool = False) -> HTMLResponse:
    """The sign-in form; every value escaped (the client id comes from the request)."""
    nonce = secrets.token_urlsafe(16)
    notice = "<p class=failed>Wrong username or password.</p>" if failed else ""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to Example Corp</title>
<style nonce="{nonce}">body{{font-family:sans-serif;max-width:28em;margin:3em auto}}.failed{{color:#b00}}</style></head>
<body><h1>Example Corp single sign-on</h1>
<p><strong>{html.escape(client_id)}</strong> asks you to sign in.</p>{notice}
<form method="post" action="/authorize">
<input type="hidden" name="request_id" value="{html.escape(request_id)}">
<input type="hidden" name="csrf_token" value="{html.escape(csrf_token)}">
<p><label>Username <input name="username" autocomplete="username"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>
<p><button name="decision" value="approve">Sign in</button> <button name="decision" value="deny">Cancel</button></p>
</form></body></html>"""
    return HTMLResponse(body, headers=page_headers(nonce))


def error_page(message: str, status: int) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    body = f"<!doctype html><html lang=en><title>Sign-in error</title><p>{html.escape(message)}</p></html>"
    return HTMLResponse(body, status_code=status, headers=page_headers(nonce))
