"""Optional: let users sign in with GitHub instead of a local password (--github-client-id).

This server stays the authorization server for MCP: GitHub only answers "who is this?". The
GitHub token is used once, to read the user's login, and then dropped: it never reaches the
MCP client or the MCP server, which see only this server's own tokens (no token passthrough).

`GitHubSignIn` is a sign-in method the consent page offers (the core's consent.py `SignIn`). The
order follows the MCP security best practices ("Confused Deputy"): the user approves the client
on this server's consent page first; only then does the browser go to GitHub, with a fresh
`state` bound to that approved, pending request and to the same browser cookie. The way back
(GET /authorize/github/callback) ends the authorization request like the password does (flow.py).

GitHub's answers are read like any other party's: within bounds (bounded_json.py) and checked for
the shape expected (TokenAnswer, UserAnswer) before anything reads them.
"""

import base64
import hashlib
import logging
import secrets
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode, urlsplit

import anyio
import httpx2
import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Column, Engine, Integer, Table, Text, delete
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...bounded_json import JsonOutOfBounds, read_json
from ..flow import AuthorizationFlow, Pending, Refused
from ..models import User
from ..pages import expired_page
from ..storage import Store, now, tables

SIGN_IN_TTL = 600  # seconds to come back from GitHub
MAX_ANSWER_BYTES = 64 * 1024  # GitHub's token response or user profile
ACCEPT_JSON = {"Accept": "application/json"}
CALLBACK_PATH = "/authorize/github/callback"  # under /authorize: the browser cookie's path
logger = logging.getLogger(__name__)

ClientIdOption = Annotated[
    str | None,
    typer.Option(
        envvar="GITHUB_CLIENT_ID", help="Offer 'sign in with GitHub' with this OAuth app.", show_default=False
    ),
]
ClientSecretOption = Annotated[
    str | None, typer.Option(envvar="GITHUB_CLIENT_SECRET", help="The GitHub OAuth app's secret.", show_default=False)
]
UrlOption = Annotated[str, typer.Option(help="GitHub, or a GitHub Enterprise Server URL.")]

# A GitHub sign-in under way: the state sent to GitHub, bound to one pending authorization.
github_sign_ins = Table(
    "github_sign_ins",
    tables,
    Column("state", Text, primary_key=True),
    Column("request_id", Text, nullable=False),
    Column("code_verifier", Text, nullable=False),
    Column("expires_at", Integer, nullable=False),
)


class GitHubError(Exception):
    pass


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
                raise GitHubError("code exchange failed")
            bearer = {"Authorization": f"Bearer {exchanged.access_token}", "Accept": "application/vnd.github+json"}
            user = await self._ask(http, UserAnswer, "GET", f"{self.api_url}/user", headers=bearer)
        if not user.login:
            raise GitHubError("no user login")
        return user.login

    @staticmethod
    async def _ask(http: httpx2.AsyncClient, shape: type[Answer], method: str, url: str, **options: Any) -> Answer:
        """GitHub's answer, a 200 with JSON of `shape`, read within bounds (bounded_json.py); else GitHubError."""
        try:
            async with http.stream(method, url, **options) as response:
                if response.status_code != 200:
                    raise GitHubError(f"{method} {urlsplit(url).path} answered HTTP {response.status_code}")
                return shape.model_validate(await read_json(response, MAX_ANSWER_BYTES))
        except httpx2.HTTPError as error:
            raise GitHubError(f"cannot reach GitHub: {type(error).__name__}") from None
        except (JsonOutOfBounds, ValidationError) as error:  # the detail stays out: it may quote the answer
            raise GitHubError(f"GitHub's answer is not the JSON expected: {type(error).__name__}") from None


class GitHubSignIns(Store):
    def save(self, state: str, request_id: str, code_verifier: str) -> None:
        """One GitHub sign-in per pending authorization, the latest: "Approve with GitHub" posted again and
        again on one page (anyone can open it) would otherwise keep a row for each, as many as were sent."""
        with self.engine.begin() as connection:
            self._delete_expired(connection, github_sign_ins, now())
            connection.execute(delete(github_sign_ins).where(github_sign_ins.c.request_id == request_id))
            row = {"state": state, "request_id": request_id, "code_verifier": code_verifier}
            connection.execute(github_sign_ins.insert().values(**row, expires_at=now() + SIGN_IN_TTL))

    def take(self, state: str) -> tuple[str, str] | None:
        """(request_id, code_verifier) for an unexpired state, which is consumed."""
        alive = github_sign_ins.c.state == state, github_sign_ins.c.expires_at >= now()
        taken = github_sign_ins.c.request_id, github_sign_ins.c.code_verifier
        with self.engine.begin() as connection:
            row = connection.execute(delete(github_sign_ins).where(*alive).returning(*taken)).first()
        return (row.request_id, row.code_verifier) if row else None


class GitHubSignIn:
    """The two hops through GitHub: start (after consent) and the callback (back to the client)."""

    name, decision = "GitHub", "github"  # the consent page's button: "Approve with GitHub"

    def __init__(self, flow: AuthorizationFlow, engine: Engine, github: GitHub) -> None:
        self.flow, self.sign_ins, self.github = flow, GitHubSignIns(engine), github

    async def start(self, pending: Pending) -> Response:
        state, code_verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        await anyio.to_thread.run_sync(self.sign_ins.save, state, pending.request_id, code_verifier)
        # 303: the browser follows with a GET, whatever the form's method was.
        return RedirectResponse(self.github.authorization_url(state, code_verifier), status_code=303)

    async def callback(self, request: Request) -> Response:
        """GET /authorize/github/callback: GitHub sends the browser back here."""
        state = request.query_params.get("state", "")
        found = await anyio.to_thread.run_sync(self.sign_ins.take, state)  # single use
        if found is None:
            raise Refused(expired_page())
        request_id, code_verifier = found
        # No CSRF token to check: the GitHub state, single use and bound to this pending
        # request, plays its part. The browser cookie must still match (someone else's round trip).
        pending = await self.flow.resume(request, request_id, csrf_token=None)

        if "code" not in request.query_params:  # the user cancelled at GitHub
            return await self.flow.deny(pending)
        try:
            login = await self.github.login(request.query_params["code"], code_verifier)
        except GitHubError as problem:
            logger.warning("GitHub sign-in failed: %s", problem)
            return await self.flow.fail(pending, "GitHub sign-in failed")
        # A prefix keeps GitHub's "alice" apart from the local alice.
        return await self.flow.approve(pending, User(f"github:{login}"))
