"""GET and POST /authorize: the login-and-consent page.

GET shows the page for a request that the flow (flow.py) has validated and saved as pending.
POST is the user's answer: the flow finds the pending request again, checking the CSRF token and
the browser cookie; then Deny, Approve with a password (signin.py), or, if configured, Approve
and sign in upstream (upstream.py).
"""

import logging
from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.requests import Request
from starlette.responses import Response

from .config import SCOPES
from .flow import AuthorizationFlow, Pending
from .pages import error_page, render
from .registration import is_loopback_host
from .signin import PasswordSignIn
from .throttle import SlowDown
from .upstream import UpstreamLogin

logger = logging.getLogger(__name__)


class ConsentPages:
    def __init__(self, flow: AuthorizationFlow, signin: PasswordSignIn, upstream: UpstreamLogin | None) -> None:
        self.flow, self.signin, self.upstream = flow, signin, upstream

    async def show(self, request: Request) -> Response:
        """GET /authorize: validate, remember the request, ask the user."""
        pending, browser_id = await self.flow.start(request)
        response = self._page(pending)
        self.flow.cookie.attach(response, browser_id)
        return response

    async def decide(self, request: Request) -> Response:
        """POST /authorize: the user's answer."""
        form = await request.form()
        request_id, csrf_token = str(form.get("request_id", "")), str(form.get("csrf_token", ""))
        pending = await self.flow.resume(request, request_id, csrf_token=csrf_token)

        decision = form.get("decision")
        if decision == "deny":
            return await self.flow.deny(pending)
        if decision == "github" and self.upstream is not None:
            # Consent first, then the upstream login (MCP security best practices, "Confused Deputy").
            return await self.upstream.start(pending)
        if decision != "approve":
            return error_page("invalid_request", "Choose Approve or Deny.", 400)

        username, password = str(form.get("username", "")), str(form.get("password", ""))
        address = request.client.host if request.client else ""
        try:
            user = await anyio.to_thread.run_sync(self.signin.check, username, password, address)
        except SlowDown as wait:
            logger.warning("refused a sign-in: too many failures for this username or address")
            message = f"Too many failed sign-ins. Wait {wait.retry_after} s, then try again."
            return self._page(pending, 429, message, username, {"Retry-After": str(wait.retry_after)})
        if user is None:
            # Same page, same pending request: no redirect, the client learns nothing.
            logger.info("wrong username or password on the consent page")
            return self._page(pending, 401, "Wrong username or password.", username)
        return await self.flow.approve(pending, user)

    def _page(
        self,
        pending: Pending,
        status: int = 200,
        error: str | None = None,
        username: str = "",
        headers: dict[str, str] | None = None,
    ) -> Response:
        grant = pending.grant
        client, redirect_uri = grant.client, grant.redirect_uri
        redirect_host = urlsplit(redirect_uri).hostname or redirect_uri
        context: dict[str, Any] = {
            "client_name": client.client_name,
            "client_id": client.client_id,
            "client_kind": client.kind,
            "redirect_uri": redirect_uri,
            "redirect_host": redirect_host,
            # The redirect URI of this request decides, not what else the client registered.
            "loopback": is_loopback_host(redirect_host),
            "scopes": [(scope, SCOPES[scope]) for scope in grant.request.scope.split()],
            "resource": grant.request.resource,
            "request_id": pending.request_id,
            "csrf_token": pending.csrf_token,
            "error": error,
            "username": username,
            "upstream": self.upstream.name if self.upstream else None,
        }
        return render("consent.html", status, headers, **context)
