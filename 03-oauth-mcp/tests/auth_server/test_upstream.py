"""Optional sign-in with GitHub, against a fake GitHub on loopback (--github-url)."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx2
import pytest

GITHUB_TOKEN = "gho_upstream_token_that_must_stay_here"


class FakeGitHub:
    """/login/oauth/access_token and /api/v3/user, the GitHub Enterprise Server layout."""

    def __init__(self) -> None:
        self.exchanges: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                outer.exchanges.append({key: values[0] for key, values in form.items()})
                ok = form.get("code") == ["github-code"] and form.get("client_secret") == ["gh-secret"]
                self.reply({"access_token": GITHUB_TOKEN, "token_type": "bearer"} if ok else {"error": "bad"})

            def do_GET(self) -> None:
                if self.headers.get("Authorization") == f"Bearer {GITHUB_TOKEN}":
                    self.reply({"login": "octocat", "id": 1})
                else:
                    self.reply({"message": "Bad credentials"}, 401)

            def reply(self, body: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    thread = threading.Thread(target=fake.httpd.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.httpd.shutdown()
    fake.httpd.server_close()


@pytest.fixture(scope="module")
def upstream_oauth(launch, tmp_path_factory, oauth_for, github) -> Iterator[Any]:
    db = tmp_path_factory.mktemp("upstream") / "auth.db"
    flags = ["--github-client-id", "gh-app", "--github-client-secret", "gh-secret", "--github-url", github.url]
    with launch("auth_server", "--db", str(db), *flags) as server:
        oauth = oauth_for(server.base_url)
        yield oauth
        assert GITHUB_TOKEN not in server.logged()


def to_github(oauth, client_id: str) -> tuple[httpx2.Client, str, dict[str, str]]:
    """Consent with 'Approve with GitHub': (browser, state sent to the client, GitHub authorize params)."""
    browser = httpx2.Client(timeout=10)
    url, _, state = oauth.authorize_url(client_id)
    page = browser.get(url)
    assert 'value="github">Approve with GitHub</button>' in page.text
    answer = browser.post(f"{oauth.base_url}/authorize", data={**oauth.hidden_inputs(page.text), "decision": "github"})
    assert answer.status_code == 303
    return browser, state, oauth.query_of(answer.headers["location"])


def test_sign_in_with_github_issues_our_token_never_githubs(upstream_oauth, github) -> None:
    oauth = upstream_oauth
    client = oauth.register()
    browser, state, github_params = to_github(oauth, client["client_id"])
    assert github_params["client_id"] == "gh-app"
    assert github_params["redirect_uri"] == f"{oauth.base_url}/authorize/github/callback"
    assert github_params["state"] != state  # its own state, not the client's
    assert github_params["code_challenge_method"] == "S256"

    callback = f"{oauth.base_url}/authorize/github/callback"
    back = browser.get(callback, params={"code": "github-code", "state": github_params["state"]})
    assert back.status_code == 302
    params = oauth.query_of(back.headers["location"])
    assert params["state"] == state
    assert params["iss"] == oauth.base_url
    assert github.exchanges[-1]["code_verifier"]  # PKCE towards GitHub too
    replay = browser.get(callback, params={"code": "github-code", "state": github_params["state"]})
    assert replay.status_code == 400  # the upstream state is single use


def test_github_user_becomes_the_token_subject(upstream_oauth) -> None:
    oauth = upstream_oauth
    client = oauth.register()
    browser = httpx2.Client(timeout=10)
    url, verifier, _ = oauth.authorize_url(client["client_id"])
    page = browser.get(url)
    answer = browser.post(f"{oauth.base_url}/authorize", data={**oauth.hidden_inputs(page.text), "decision": "github"})
    github_state = oauth.query_of(answer.headers["location"])["state"]
    back = browser.get(
        f"{oauth.base_url}/authorize/github/callback", params={"code": "github-code", "state": github_state}
    )
    response = oauth.redeem(client["client_id"], oauth.query_of(back.headers["location"])["code"], verifier)
    assert response.status_code == 200, response.text
    assert GITHUB_TOKEN not in response.text
    assert oauth.verify(response.json()["access_token"])[1]["sub"] == "github:octocat"


def test_github_callback_in_another_browser_is_refused(upstream_oauth) -> None:
    oauth = upstream_oauth
    _, _, github_params = to_github(oauth, oauth.register()["client_id"])
    stranger = httpx2.get(
        f"{oauth.base_url}/authorize/github/callback",
        params={"code": "github-code", "state": github_params["state"]},
        timeout=10,
    )
    assert stranger.status_code == 403


def test_cancel_at_github_is_access_denied_and_failure_is_server_error(upstream_oauth) -> None:
    oauth = upstream_oauth
    callback = f"{oauth.base_url}/authorize/github/callback"
    browser, state, github_params = to_github(oauth, oauth.register()["client_id"])
    cancelled = browser.get(callback, params={"error": "access_denied", "state": github_params["state"]})
    params = oauth.query_of(cancelled.headers["location"])
    assert (params["error"], params["state"], params["iss"]) == ("access_denied", state, oauth.base_url)
    browser, state, github_params = to_github(oauth, oauth.register()["client_id"])
    failed = browser.get(callback, params={"code": "wrong-code", "state": github_params["state"]})
    params = oauth.query_of(failed.headers["location"])
    assert params["error"] == "server_error"
    assert params["state"] == state
    assert params["iss"] == oauth.base_url


def test_github_flags_come_in_pairs(run_cli) -> None:
    result = run_cli("auth_server", "--github-client-id", "gh-app", env={"GITHUB_CLIENT_SECRET": ""})
    assert result.returncode == 2
    assert "--github-client-secret" in result.stderr
