"""One authorization request, from GET /authorize to the redirect back to the client.

Every way of signing a user in ends here: the password on the consent page (consent.py) and any
other sign-in offered there (optional/github.py).

1. `start` (GET /authorize): Authlib validates the request, which is then saved server-side as
   a *pending authorization* (storage/pending.py), bound to this browser by a cookie.
2. `resume` (the form's POST, or a sign-in's way back): the pending authorization is found
   again, from the same browser, and validated again: the client may have changed meanwhile,
   or its metadata document expired.
3. `approve`, `deny` or `fail`: Authlib's redirect back to the client, plus `iss` (RFC 9207).
   Each pending authorization ends once: a second answer finds nothing.

A request that cannot go on raises `Refused`, which carries the response; app.py sends it, in one
place. What that response is follows RFC 6749 §4.1.2.1: while the client or its redirect URI is
unverified, the user sees an error page here and is never redirected (this server would otherwise
be an open redirector); once both are verified, the error goes back to the client. Every redirect
back carries `iss`, errors included, so a client talking to several authorization servers can
tell which one answered (mix-up attacks).
"""

import logging
import secrets
from dataclasses import dataclass
from typing import Any

import anyio
from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.base import invalid_error_characters
from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import Response

from .adapter import StarletteOAuth2Request, client_address, oauth2_request
from .config import CONSENT_TTL
from .models import User
from .oauth import AuthorizationServer
from .pages import error_page, expired_page
from .storage import digest
from .storage.pending import PendingAuthorizations

logger = logging.getLogger(__name__)

# Authlib quotes these in error descriptions, which may only hold plain ASCII (RFC 6749 §4.1.2.1):
# a quote or backslash in them would make Authlib raise ValueError (a 500) instead of an OAuth error.
ECHOED_PARAMETERS = ("response_type", "redirect_uri")


class Refused(Exception):
    """The authorization request cannot go on; `response` is what the browser gets instead."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"refused with HTTP {response.status_code}")
        self.response = response


@dataclass(frozen=True)
class Pending:
    """A validated authorization request, waiting for the user's decision."""

    request_id: str
    csrf_token: str
    oauth_request: StarletteOAuth2Request
    grant: Any  # Authlib's grant: the client, redirect URI and scope it checked


class BrowserCookie:
    """The cookie that binds a pending authorization to the browser that opened it.

    Its value is always one this server generated. A value the browser brings along is kept only
    if this server issued it for a pending authorization still alive (two tabs, or a GitHub sign-in,
    share one); any other value is replaced, since a page on another port of the same host could
    have planted it (cookies do not keep ports apart) and would then know it.
    """

    def __init__(self, issuer: str, pending: PendingAuthorizations) -> None:
        self.pending = pending
        # The __Host- prefix (Secure, Path=/, no Domain) needs https.
        self.secure = issuer.startswith("https://")
        self.name = "__Host-authz_browser" if self.secure else "authz_browser"

    def issue(self, request: Request) -> str:
        """The value for this browser: its current one if this server issued it, else a new one."""
        presented = request.cookies.get(self.name)
        if presented and self.pending.browser_is_known(presented):
            return presented
        return secrets.token_urlsafe(32)

    def attach(self, response: Response, value: str) -> None:
        response.set_cookie(
            self.name,
            value,
            max_age=CONSENT_TTL,
            path="/" if self.secure else "/authorize",
            secure=self.secure,
            httponly=True,  # scripts cannot read it
            samesite="lax",  # another site cannot POST the form with it
        )

    def matches(self, request: Request, browser_hash: str) -> bool:
        # compare_digest: constant time, so timing does not leak how much of a guess was right.
        return secrets.compare_digest(digest(request.cookies.get(self.name, "")), browser_hash)


class AuthorizationFlow:
    def __init__(self, server: AuthorizationServer, pending: PendingAuthorizations) -> None:
        self.server, self.pending, self.issuer = server, pending, server.settings.issuer
        self.cookie = BrowserCookie(self.issuer, pending)

    async def start(self, request: Request) -> tuple[Pending, str]:
        """GET /authorize: validate and remember the request; (the pending authorization, the cookie value)."""
        for name in ECHOED_PARAMETERS:
            if invalid_error_characters(request.query_params.get(name, "")):
                raise Refused(error_page("invalid_request", f"Malformed {name}.", 400))
        params = self.pending.kept(request.query_params)  # may raise Refused (optional/pending_limits.py)
        oauth_request, grant = await self._validate(request, params)

        def remember() -> tuple[str, str, str]:
            browser_id = self.cookie.issue(request)
            client_id, address = grant.client.client_id, client_address(request)
            return *self.pending.save(params, browser_id, client_id, address), browser_id

        request_id, csrf_token, browser_id = await anyio.to_thread.run_sync(remember)
        return Pending(request_id, csrf_token, oauth_request, grant), browser_id

    async def resume(self, request: Request, request_id: str, *, csrf_token: str | None) -> Pending:
        """The pending authorization `request_id`, if this browser opened it; validated again.

        `csrf_token` is the one the form sent back; None where something else proves the request
        came from this server's own page (a sign-in's single-use `state`: optional/github.py).
        """
        stored = await anyio.to_thread.run_sync(self.pending.get, request_id) if request_id else None
        if stored is None:
            raise Refused(expired_page())
        params, expected_csrf, browser_hash = stored
        if csrf_token is not None and not (csrf_token and secrets.compare_digest(csrf_token, expected_csrf)):
            logger.warning("refused a consent form with a missing or wrong CSRF token")
            raise Refused(error_page("csrf", "The form could not be verified. Start again from the application.", 403))
        if not self.cookie.matches(request, browser_hash):
            logger.warning("refused an authorization answer from another browser")
            raise Refused(error_page("csrf", "This sign-in did not start in this browser.", 403))
        oauth_request, grant = await self._validate(request, params, request_id)
        return Pending(request_id, expected_csrf, oauth_request, grant)

    async def approve(self, pending: Pending, user: User) -> Response:
        """Issue the code: Authlib redirects to the client with code and state, and `iss` is added."""
        response = await self._finish(pending, user)
        grant = pending.grant
        logger.info("%s approved %s, scope %r", user.username, grant.client.client_id, grant.request.scope)
        return response

    async def deny(self, pending: Pending) -> Response:
        """access_denied, back to the client."""
        response = await self._finish(pending, None)
        logger.info("the user denied %s", pending.grant.client.client_id)
        return response

    async def fail(self, pending: Pending, description: str) -> Response:
        """server_error, back to the client: the sign-in could not be completed (GitHub failed, say)."""
        error = OAuth2Error(description, error="server_error", redirect_uri=pending.grant.redirect_uri)
        error.state = pending.oauth_request.payload.state
        await anyio.to_thread.run_sync(self._take, pending)
        return self.with_issuer(self.server.handle_error_response(pending.oauth_request, error))

    async def _finish(self, pending: Pending, user: User | None) -> Response:
        """Authlib's answer to the client: a code for `user`, or access_denied when None."""

        def finish() -> Response:
            self._take(pending)
            return self.server.create_authorization_response(pending.oauth_request, user, pending.grant)

        return self.with_issuer(await anyio.to_thread.run_sync(finish))

    def _take(self, pending: Pending) -> None:
        # Single use: of two answers racing for one pending authorization, only one deletes it.
        if not self.pending.delete(pending.request_id):
            raise Refused(expired_page())

    async def _validate(
        self, request: Request, params: list[tuple[str, str]], request_id: str | None = None
    ) -> tuple[StarletteOAuth2Request, Any]:
        oauth_request = await oauth2_request(request, self.issuer, params=MultiDict(params))
        problem = await self.server.prepare_client(oauth_request.payload.client_id)
        try:
            grant = await anyio.to_thread.run_sync(self.server.get_consent_grant, oauth_request)
        except OAuth2Error as error:
            if request_id is not None:
                await anyio.to_thread.run_sync(self.pending.delete, request_id)
            raise Refused(self._refusal(oauth_request, error, problem)) from None
        return oauth_request, grant

    def _refusal(self, oauth_request: StarletteOAuth2Request, error: OAuth2Error, detail: str | None) -> Response:
        if error.redirect_uri:  # client and redirect URI verified: the client hears about it
            return self.with_issuer(self.server.handle_error_response(oauth_request, error))
        logger.info("authorization request refused without redirect: %s %s", error.error, error.description)
        return error_page(error.error, error.description, 400, detail)

    def with_issuer(self, response: Response) -> Response:
        """RFC 9207: `iss` on every authorization response. Authlib's IssuerParameter extension
        cannot do it here (it rewrites `response.location`, a Flask attribute)."""
        if location := response.headers.get("location"):
            response.headers["location"] = add_params_to_uri(location, [("iss", self.issuer)])
        return response
