"""Optional sign-in with GitHub, against a fake GitHub on loopback (--github-url)."""

import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from lesson03.tests.support import fake_github, processes
from lesson03.tests.support.in_process_auth_server import auth_server_in_thread
from lesson03.tests.support.oauth_driver import OAuth
from lesson03.tests.support.server_log import log_showing


@pytest.fixture(scope="module")
def github() -> Iterator[Any]:
    with fake_github.FakeGitHub().running() as fake:
        yield fake


@pytest.fixture(scope="module")
def github_server(tmp_path_factory, github) -> Iterator[Any]:
    """An authorization server offering "Approve with GitHub", the fake one."""
    db = tmp_path_factory.mktemp("github") / "auth.db"
    flags = ["--github-client-id", fake_github.CLIENT_ID, "--github-client-secret", fake_github.CLIENT_SECRET]
    with auth_server_in_thread("--db", str(db), *flags, "--github-url", github.url) as server:
        yield server


@pytest.fixture(scope="module")
def github_oauth(github_server) -> Iterator[Any]:
    oauth = OAuth(github_server.base_url)
    yield oauth
    oauth.close()


def to_github(oauth, client_id: str) -> tuple[httpx2.Client, str, dict[str, str]]:
    """Consent with 'Approve with GitHub': (browser, state sent to the client, GitHub authorize params)."""
    browser = httpx2.Client(timeout=10)
    url, _, state = oauth.authorize_url(client_id)
    page = browser.get(url)
    assert 'value="github">Approve with GitHub</button>' in page.text
    answer = browser.post(f"{oauth.base_url}/authorize", data={**oauth.hidden_inputs(page.text), "decision": "github"})
    assert answer.status_code == 303
    return browser, state, oauth.query_of(answer.headers["location"])


def test_sign_in_with_github_issues_our_token_never_githubs(github_oauth, github) -> None:
    oauth = github_oauth
    client = oauth.register()
    browser, state, github_params = to_github(oauth, client["client_id"])
    assert github_params["client_id"] == fake_github.CLIENT_ID
    assert github_params["redirect_uri"] == f"{oauth.base_url}/authorize/github/callback"
    assert github_params["state"] != state  # its own state, not the client's
    assert github_params["code_challenge_method"] == "S256"

    callback = f"{oauth.base_url}/authorize/github/callback"
    back = browser.get(callback, params={"code": fake_github.CODE, "state": github_params["state"]})
    assert back.status_code == 302
    params = oauth.query_of(back.headers["location"])
    assert params["state"] == state
    assert params["iss"] == oauth.base_url
    assert github.exchanges[-1]["code_verifier"]  # PKCE towards GitHub too
    replay = browser.get(callback, params={"code": fake_github.CODE, "state": github_params["state"]})
    assert replay.status_code == 400  # the state sent to GitHub is single use


def test_github_user_becomes_the_token_subject(github_oauth) -> None:
    oauth = github_oauth
    client = oauth.register()
    browser = httpx2.Client(timeout=10)
    url, verifier, _ = oauth.authorize_url(client["client_id"])
    page = browser.get(url)
    answer = browser.post(f"{oauth.base_url}/authorize", data={**oauth.hidden_inputs(page.text), "decision": "github"})
    github_state = oauth.query_of(answer.headers["location"])["state"]
    back = browser.get(
        f"{oauth.base_url}/authorize/github/callback", params={"code": fake_github.CODE, "state": github_state}
    )
    response = oauth.redeem(client["client_id"], oauth.query_of(back.headers["location"])["code"], verifier)
    assert response.status_code == 200, response.text
    assert fake_github.TOKEN not in response.text
    assert oauth.verify(response.json()["access_token"])[1]["sub"] == "github:octocat"


def test_github_callback_in_another_browser_is_refused(github_oauth) -> None:
    oauth = github_oauth
    _, _, github_params = to_github(oauth, oauth.register()["client_id"])
    stranger = httpx2.get(
        f"{oauth.base_url}/authorize/github/callback",
        params={"code": fake_github.CODE, "state": github_params["state"]},
        timeout=10,
    )
    assert stranger.status_code == 403


def test_cancel_at_github_is_access_denied_and_failure_is_server_error(github_oauth) -> None:
    oauth = github_oauth
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


def test_neither_githubs_code_nor_its_token_reaches_the_log(github_oauth, github_server) -> None:
    oauth = github_oauth
    browser, _, github_params = to_github(oauth, oauth.register()["client_id"])
    callback = f"{oauth.base_url}/authorize/github/callback"
    back = browser.get(callback, params={"code": fake_github.CODE, "state": github_params["state"]})
    assert back.status_code == 302

    # uvicorn's access log writes the callback's URL: the code in it is written as ****.
    logged = log_showing(github_server, "/authorize/github/callback?")
    assert "/authorize/github/callback?code=****&state=****" in logged
    assert fake_github.CODE not in logged
    assert fake_github.TOKEN not in logged


def test_approve_with_github_posted_again_and_again_keeps_one_github_sign_in(github_oauth, github_server) -> None:
    # Each POST of "Approve with GitHub" kept a GitHub sign-in of its own for ten minutes: one consent
    # page, which anyone can open, could fill the database. Only the latest is kept; the browser follows it.
    oauth = github_oauth
    browser = httpx2.Client(timeout=10)
    page = browser.get(oauth.authorize_url(oauth.register()["client_id"])[0])
    form = {**oauth.hidden_inputs(page.text), "decision": "github"}
    states = [oauth.query_of(browser.post(f"{oauth.base_url}/authorize", data=form).headers["location"])["state"]]
    states += [oauth.query_of(browser.post(f"{oauth.base_url}/authorize", data=form).headers["location"])["state"]]
    db = github_server.args[github_server.args.index("--db") + 1]
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as rows:
        kept = {state for (state,) in rows.execute("SELECT state FROM github_sign_ins")}
    assert states[0] not in kept and states[1] in kept
    callback = f"{oauth.base_url}/authorize/github/callback"
    assert browser.get(callback, params={"code": fake_github.CODE, "state": states[0]}).status_code == 400
    assert browser.get(callback, params={"code": fake_github.CODE, "state": states[1]}).status_code == 302


def test_github_flags_come_in_pairs() -> None:
    result = processes.run_cli("auth_server", "--github-client-id", "gh-app", env={"GITHUB_CLIENT_SECRET": ""})
    assert result.returncode == 2
    assert "--github-client-secret" in result.stderr
