"""GitHub's OAuth web flow on loopback: what `--github-url` points the authorization server at.

It stands in for GitHub Enterprise Server's layout (/login/oauth/access_token, /api/v3/user): it
exchanges the one code it knows (`CODE`, with the app's secret) for `TOKEN`, and answers /user for
that token with the login `octocat`. `exchanges` records every code exchange it was sent.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs

from . import loopback_http

CLIENT_ID, CLIENT_SECRET = "gh-app", "gh-secret"  # the OAuth app the authorization server is configured with
CODE = "github-code-that-must-stay-out-of-logs"
TOKEN = "gho_github_token_that_must_stay_here"


class FakeGitHub:
    def __init__(self) -> None:
        self.exchanges: list[dict[str, str]] = []
        outer = self

        class Handler(loopback_http.JsonHandler):
            def do_POST(self) -> None:
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                outer.exchanges.append({key: values[0] for key, values in form.items()})
                ok = form.get("code") == [CODE] and form.get("client_secret") == [CLIENT_SECRET]
                self.reply({"access_token": TOKEN, "token_type": "bearer"} if ok else {"error": "bad"})

            def do_GET(self) -> None:
                if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                    self.reply({"login": "octocat", "id": 1})
                else:
                    self.reply({"message": "Bad credentials"}, 401)

        self.httpd = loopback_http.loopback_server(Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator["FakeGitHub"]:
        with loopback_http.serving(self.httpd):
            yield self
