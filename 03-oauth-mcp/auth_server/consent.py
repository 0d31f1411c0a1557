"""GET and POST /authorize: the login-and-consent page, and the authorization response it leads to.

GET validates the request with Authlib, saves it server-side as a *pending authorization* and
renders the page. POST (the form) finds the pending request again, checks the CSRF token and the
browser cookie, checks the password, and lets Authlib issue the code, or the access_denied error.

Two rules decide where an error goes (RFC 6749 §4.1.2.1): while the client or its redirect URI
is unverified, the user sees an error page here and is never redirected (this server would
otherwise be an open redirector); once both are verified, the error goes back to the client.
Every redirect back carries `iss` (RFC 9207), errors included, so a client talking to several
authorization servers can tell which one answered (mix-up attacks).
"""

import functools
import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.base import invalid_error_characters
from jinja2 import Environment, FileSystemLoader
from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from .adapter import oauth2_request
from .config import CONSENT_TTL, SCOPES
from .models import User
from .oauth import AuthorizationServer
from .passwords import hash_password, verify_password
from .registration import is_loopback_host
from .storage import digest

if TYPE_CHECKING:
    from .upstream import UpstreamLogin

logger = logging.getLogger(__name__)

# autoescape=True: every value rendered is HTML-escaped. A client chooses its own client_name,
# and the page must show it as text, never run it.
templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
)

# Authlib quotes these in error descriptions, which may only hold plain ASCII (RFC 6749 §4.1.2.1):
# a quote or backslash in them would make Authlib raise ValueError (a 500) instead of an OAuth error.
ECHOED_PARAMETERS = ("response_type", "redirect_uri")


@functools.cache
def dummy_hash() -> str:
    """Checked against for unknown usernames, so "no such user" takes as long as "wrong password"."""
    return hash_password(secrets.token_urlsafe(16))


class ConsentPages:
    def __init__(self, server: AuthorizationServer) -> None:
        self.server = server
        self.issuer = server.settings.issuer
        self.storage = server.storage
        # A browser-binding cookie: the pending request is only usable from the browser that
        # opened it. The __Host- prefix (Secure, Path=/, no Domain) needs https.
        self.secure = self.issuer.startswith("https://")
        self.cookie = "__Host-authz_browser" if self.secure else "authz_browser"
        # The optional upstream identity provider (upstream.py), set by app.py when configured.
        self.upstream: UpstreamLogin | None = None

    async def show(self, request: Request) -> Response:
        """GET /authorize: validate, remember the request, ask the user."""
        for name in ECHOED_PARAMETERS:
            if invalid_error_characters(request.query_params.get(name, "")):
                return self.error_page("invalid_request", f"Malformed {name}.", 400)
        oauth_request = await oauth2_request(request, self.issuer)
        problem = await self.server.prepare_client(request.query_params.get("client_id"))
        try:
            grant = self.server.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            return self._error(oauth_request, error, problem)

        browser_id = request.cookies.get(self.cookie) or secrets.token_urlsafe(32)
        request_id, csrf_token = self.storage.save_pending(
            list(request.query_params.multi_items()), browser_id, CONSENT_TTL
        )
        response = self._page(grant, request_id, csrf_token)
        response.set_cookie(
            self.cookie,
            browser_id,
            max_age=CONSENT_TTL,
            path="/" if self.secure else "/authorize",
            secure=self.secure,
            httponly=True,  # scripts cannot read it
            samesite="lax",  # another site cannot POST the form with it
        )
        return response

    async def decide(self, request: Request) -> Response:
        """POST /authorize: the user's answer."""
        form = await request.form()
        request_id, csrf_token = str(form.get("request_id", "")), str(form.get("csrf_token", ""))
        pending = self.storage.get_pending(request_id) if request_id else None
        if pending is None:
            return self.expired_page()
        params, expected_csrf, browser_hash = pending
        # CSRF: the form must carry the token rendered into it, from the browser that loaded it.
        # compare_digest: constant time, so timing does not leak how much of a guess was right.
        if not (csrf_token and secrets.compare_digest(csrf_token, expected_csrf)) or not self.same_browser(
            request, browser_hash
        ):
            logger.warning("refused a consent form with a missing or wrong CSRF token or cookie")
            return self.error_page("csrf", "The form could not be verified. Start again from the application.", 403)
        resumed = await self.resume(request, request_id, params)
        if isinstance(resumed, Response):
            return resumed
        oauth_request, grant = resumed

        decision = form.get("decision")
        if decision == "deny":
            self.storage.delete_pending(request_id)
            logger.info("user denied %s", oauth_request.payload.client_id)
            return self.with_issuer(self.server.create_authorization_response(oauth_request, None, grant))
        if decision == "github" and self.upstream is not None:
            # Consent first, then the upstream login (MCP security best practices, "Confused Deputy").
            return self.upstream.start(request_id)
        if decision != "approve":
            return self.error_page("invalid_request", "Choose Approve or Deny.", 400)

        username = str(form.get("username", ""))
        user = await self._authenticate(username, str(form.get("password", "")))
        if user is None:
            # Same page, same pending request: no redirect, the client learns nothing.
            logger.info("wrong username or password on the consent page")
            return self._page(grant, request_id, expected_csrf, error="Wrong username or password.", username=username)
        return self.approve(request_id, oauth_request, grant, user)

    def approve(self, request_id: str, oauth_request: Any, grant: Any, user: User) -> Response:
        """Issue the code: Authlib redirects to the client with code and state, and we add iss."""
        self.storage.delete_pending(request_id)  # single use: a second POST finds nothing
        logger.info("%s approved %s, scope %r", user.username, grant.client.client_id, grant.request.scope)
        return self.with_issuer(self.server.create_authorization_response(oauth_request, user, grant))

    async def resume(
        self, request: Request, request_id: str, params: list[tuple[str, str]]
    ) -> tuple[Any, Any] | Response:
        """The pending request's (oauth_request, grant), validated again, or the error response.

        Again, because the client may have changed (or its metadata document expired) meanwhile.
        """
        oauth_request = await oauth2_request(request, self.issuer, params=MultiDict(params))
        problem = await self.server.prepare_client(oauth_request.payload.client_id)
        try:
            return oauth_request, self.server.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            self.storage.delete_pending(request_id)
            return self._error(oauth_request, error, problem)

    def same_browser(self, request: Request, browser_hash: str) -> bool:
        return secrets.compare_digest(digest(request.cookies.get(self.cookie, "")), browser_hash)

    def expired_page(self) -> Response:
        return self.error_page("expired", "This sign-in page has expired. Start again from the application.", 400)

    async def _authenticate(self, username: str, password: str) -> User | None:
        stored = self.storage.get_password_hash(username)
        # scrypt takes ~60 ms of CPU: off the event loop, so other requests keep flowing.
        valid = await anyio.to_thread.run_sync(verify_password, password, stored or dummy_hash())
        return User(username) if valid and stored else None

    def _error(self, oauth_request: Any, error: OAuth2Error, detail: str | None) -> Response:
        if error.redirect_uri:  # client and redirect URI verified: the client hears about it
            return self.with_issuer(self.server.handle_error_response(oauth_request, error))
        logger.info("authorization request refused without redirect: %s %s", error.error, error.description)
        return self.error_page(error.error, error.description, 400, detail)

    def with_issuer(self, response: Response) -> Response:
        """RFC 9207: `iss` on every authorization response. Authlib's IssuerParameter extension
        cannot do it here (it rewrites `response.location`, a Flask attribute)."""
        if location := response.headers.get("location"):
            response.headers["location"] = add_params_to_uri(location, [("iss", self.issuer)])
        return response

    def _page(
        self, grant: Any, request_id: str, csrf_token: str, error: str | None = None, username: str = ""
    ) -> Response:
        client = grant.client
        redirect_uri = grant.redirect_uri
        redirect_host = urlsplit(redirect_uri).hostname or redirect_uri
        loopback_only = all(is_loopback_host(urlsplit(uri).hostname or "") for uri in client.redirect_uris)
        return self._render(
            "consent.html",
            401 if error else 200,
            client_name=client.client_name,
            client_id=client.client_id,
            client_kind=client.kind,
            redirect_uri=redirect_uri,
            redirect_host=redirect_host,
            loopback_only=loopback_only,
            scopes=[(scope, SCOPES[scope]) for scope in grant.request.scope.split()],
            resource=grant.request.resource,
            request_id=request_id,
            csrf_token=csrf_token,
            error=error,
            username=username,
            upstream=self.upstream.name if self.upstream else None,
        )

    def error_page(self, error: str, description: str, status: int, detail: str | None = None) -> Response:
        return self._render("error.html", status, error=error, description=description, detail=detail)

    def _render(self, template: str, status: int, **context: Any) -> Response:
        nonce = secrets.token_urlsafe(16)
        html = templates.get_template(template).render(nonce=nonce, **context)
        return HTMLResponse(html, status_code=status, headers=page_headers(nonce))


def page_headers(nonce: str) -> dict[str, str]:
    """Headers for every HTML page: no framing (clickjacking), no scripts, no caching."""
    return {
        "X-Frame-Options": "DENY",  # older browsers
        # No form-action: Chromium applies it to the redirect that follows the form's POST too,
        # and that redirect goes to the client's own URI.
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; frame-ancestors 'none'; base-uri 'none'"
        ),
        "Cache-Control": "no-store",  # the page holds a CSRF token
        "Referrer-Policy": "no-referrer",  # the URL holds the PKCE challenge and state
        "X-Content-Type-Options": "nosniff",
    }
