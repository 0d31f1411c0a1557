"""GET and POST /authorize: the login-and-consent page.

GET shows the page for a request that the flow (flow.py) has validated and saved as pending.
POST is the user's answer: the flow finds the pending request again, checking the CSRF token and
the browser cookie; then Deny, Approve with a password (signin.py), or Approve and sign in
another way (a `SignIn` offered on the page: optional/github.py).
"""

import logging
from typing import Any, Protocol
from urllib.parse import urlsplit

import anyio
from starlette.requests import Request
from starlette.responses import Response

from ..addresses import is_loopback
from .adapter import client_address
from .config import SCOPES
from .flow import AuthorizationFlow, Pending
from .guard import SlowDown
from .pages import error_page, render
from .signin import PasswordSignIn

logger = logging.getLogger(__name__)


class SignIn(Protocol):
    """Another way to sign in: a button "Approve with <name>" that posts decision=<decision>.

    The user consents first, and only then signs in elsewhere (MCP security best practices,
    "Confused Deputy"); the way back ends in the flow's approve, deny or fail.
    """

    name: str
    decision: str

    async def start(self, pending: Pending) -> Response: ...


class ConsentPages:
    def __init__(self, flow: AuthorizationFlow, password: PasswordSignIn) -> None:
        self.flow, self.password = flow, password
        self.sign_ins: dict[str, SignIn] = {}  # by decision

    def offer(self, sign_in: SignIn) -> None:
        self.sign_ins[sign_in.decision] = sign_in

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

        decision = str(form.get("decision"))
        if decision == "deny":
            return await self.flow.deny(pending)
        if decision in self.sign_ins:
            return await self.sign_ins[decision].start(pending)
        if decision != "approve":
            return error_page("invalid_request", "Choose Approve or Deny.", 400)

        username, password = str(form.get("username", "")), str(form.get("password", ""))
        try:
            user = await anyio.to_thread.run_sync(self.password.check, username, password, client_address(request))
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
            "loopback": is_loopback(redirect_host),
            "scopes": [(scope, SCOPES[scope]) for scope in grant.request.scope.split()],
            "resource": grant.request.resource,
            "request_id": pending.request_id,
            "csrf_token": pending.csrf_token,
            "error": error,
            "username": username,
            "sign_ins": list(self.sign_ins.values()),
        }
        return render("consent.html", status, headers, **context)
