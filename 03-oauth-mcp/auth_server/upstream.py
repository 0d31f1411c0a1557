"""Optional: let users sign in with GitHub instead of a local password (--github-client-id).

This server stays the authorization server for MCP: GitHub only answers "who is this?". The
GitHub token is used once, to read the user's login, and then dropped: it never reaches the
MCP client or the MCP server, which see only this server's own tokens (no token passthrough).

The order follows the MCP security best practices ("Confused Deputy"): the user approves the
client on this server's consent page first; only then does the browser go to GitHub, with a
fresh upstream `state` bound to that approved, pending request and to the same browser cookie.
The way back ends the authorization request like the password does (flow.py).

GitHub's answers are read like any other party's: within bounds (bounded_json.py) and checked for
the shape expected (TokenAnswer, UserAnswer) before anything reads them.
"""

import base64
import hashlib
import logging
import secrets
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import anyio
import httpx2
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..bounded_json import JsonOutOfBounds, read_json
from .config import MAX_UPSTREAM_ANSWER_BYTES
from .flow import AuthorizationFlow, Pending, Refused
from .models import User
from .pages import expired_page
from .storage import Storage

UPSTREAM_TTL = 600
logger = logging.getLogger(__name__)


class UpstreamError(Exception):
    pass


ACCEPT_JSON = {"Accept": "application/json"}


class TokenAnswer(BaseModel):
    """GitHub's token response: the members read, of their JSON types (strict); the rest ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")
    access_token: str | None = None


class UserAnswer(BaseModel):
    """GET /user: only the login is read. It becomes the tokens' `sub`, so it must look like one: GitHub
    logins are letters, digits and hyphens, 39 at most (GitHub Enterprise Server normalizes to the same)."""

    model_config = ConfigDict(strict=True, extra="ignore")
    login: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,39}$")


Answer = TypeVar("Answer", TokenAnswer, UserAnswer)


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
        form = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": code_verifier,
        }
        async with httpx2.AsyncClient(timeout=10) as http:
            exchanged = await self._ask(
                http, TokenAnswer, "POST", f"{self.base_url}/login/oauth/access_token", data=form, headers=ACCEPT_JSON
            )
            if not exchanged.access_token:  # GitHub answers errors with 200 and an "error" member
                raise UpstreamError("code exchange failed")
            bearer = {"Authorization": f"Bearer {exchanged.access_token}", "Accept": "application/vnd.github+json"}
            user = await self._ask(http, UserAnswer, "GET", f"{self.api_url}/user", headers=bearer)
        if not user.login:
            raise UpstreamError("no user login")
        return user.login

    @staticmethod
    async def _ask(http: httpx2.AsyncClient, shape: type[Answer], method: str, url: str, **options: Any) -> Answer:
        """GitHub's answer, a 200 with JSON of `shape`, read within bounds (bounded_json.py); else UpstreamError."""
        try:
            async with http.stream(method, url, **options) as response:
                if response.status_code != 200:
                    raise UpstreamError(f"{method} {urlsplit(url).path} answered HTTP {response.status_code}")
                return shape.model_validate(await read_json(response, MAX_UPSTREAM_ANSWER_BYTES))
        except httpx2.HTTPError as error:
            raise UpstreamError(f"cannot reach GitHub: {type(error).__name__}") from None
        except (JsonOutOfBounds, ValidationError) as error:  # the detail stays out: it may quote the answer
            raise UpstreamError(f"GitHub's answer is not the JSON expected: {type(error).__name__}") from None


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
