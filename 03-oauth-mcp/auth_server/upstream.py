"""Optional: let users sign in with GitHub instead of a local password (--github-client-id).

This server stays the authorization server for MCP: GitHub only answers "who is this?". The
GitHub token is used once, to read the user's login, and then dropped: it never reaches the
MCP client or the MCP server, which see only this server's own tokens (no token passthrough).

The order follows the MCP security best practices ("Confused Deputy"): the user approves the
client on this server's consent page first; only then does the browser go to GitHub, with a
fresh upstream `state` bound to that approved, pending request and to the same browser cookie.
The way back ends the authorization request like the password does (flow.py).
"""

import base64
import hashlib
import logging
import secrets
from urllib.parse import urlencode

import anyio
import httpx2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .flow import AuthorizationFlow, Pending, Refused
from .models import User
from .pages import expired_page
from .storage import Storage

UPSTREAM_TTL = 600
logger = logging.getLogger(__name__)


class UpstreamError(Exception):
    pass


class GitHub:
    """GitHub's OAuth web flow, as an OAuth client (https://docs.github.com/en/apps/oauth-apps)."""

    name = "GitHub"

    def __init__(self, client_id: str, client_secret: str, base_url: str, redirect_uri: str) -> None:
        self.client_id, self.client_secret, self.redirect_uri = client_id, client_secret, redirect_uri
        self.base_url = base_url.rstrip("/")
        # github.com keeps its API on another host; GitHub Enterprise Server serves it under /api/v3.
        self.api_url = "https://api.github.com" if self.base_url == "https://github.com" else f"{self.base_url}/api/v3"

    def authorization_url(self, state: str, code_verifier: str) -> str:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).decode().rstrip("=")
        query = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": state,
            "scope": "",  # no scope: public profile only, all that "who is this" needs
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "allow_signup": "false",
        }
        return f"{self.base_url}/login/oauth/authorize?{urlencode(query)}"

    async def login(self, code: str, code_verifier: str) -> str:
        """Exchange the code, read the user's login, forget the GitHub token."""
        async with httpx2.AsyncClient(timeout=10) as http:
            try:
                exchanged = await http.post(
                    f"{self.base_url}/login/oauth/access_token",
                    data={
                        "client_id": self.client_id,
                        "client_secret": self.client_secret,
                        "code": code,
                        "redirect_uri": self.redirect_uri,
                        "code_verifier": code_verifier,
                    },
                    headers={"Accept": "application/json"},
                )
                token = exchanged.json().get("access_token") if exchanged.status_code == 200 else None
                if not token:  # GitHub answers errors with 200 and an "error" member
                    raise UpstreamError(f"code exchange failed (HTTP {exchanged.status_code})")
                user = await http.get(
                    f"{self.api_url}/user",
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
                )
            except (httpx2.HTTPError, ValueError) as error:
                raise UpstreamError(f"cannot reach GitHub: {type(error).__name__}") from None
        login = user.json().get("login") if user.status_code == 200 else None
        if not isinstance(login, str) or not login:
            raise UpstreamError(f"no user login (HTTP {user.status_code})")
        return login


class UpstreamLogin:
    """The two hops through GitHub: start (after consent) and the callback (back to the client)."""

    def __init__(self, flow: AuthorizationFlow, storage: Storage, github: GitHub) -> None:
        self.flow, self.storage, self.github = flow, storage, github
        self.name = github.name

    async def start(self, pending: Pending) -> Response:
        state, code_verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        await anyio.to_thread.run_sync(
            self.storage.save_upstream_login, state, pending.request_id, code_verifier, UPSTREAM_TTL
        )
        # 303: the browser follows with a GET, whatever the form's method was.
        return RedirectResponse(self.github.authorization_url(state, code_verifier), status_code=303)

    async def callback(self, request: Request) -> Response:
        """GET /authorize/github/callback: GitHub sends the browser back here."""
        state = request.query_params.get("state", "")
        found = await anyio.to_thread.run_sync(self.storage.take_upstream_login, state)  # single use
        if found is None:
            raise Refused(expired_page())
        request_id, code_verifier = found
        # No CSRF token to check: the upstream state, single use and bound to this pending
        # request, plays its part. The browser cookie must still match (someone else's round trip).
        pending = await self.flow.resume(request, request_id, csrf_token=None)

        if "code" not in request.query_params:  # the user cancelled at GitHub
            return await self.flow.deny(pending)
        try:
            login = await self.github.login(request.query_params["code"], code_verifier)
        except UpstreamError as problem:
            logger.warning("GitHub sign-in failed: %s", problem)
            return await self.flow.fail(pending, "GitHub sign-in failed")
        # A prefix keeps GitHub's "alice" apart from the local alice.
        return await self.flow.approve(pending, User(f"github:{login}"))
