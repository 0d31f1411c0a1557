"""Optional sign-in with GitHub, against a fake GitHub on loopback (--github-url)."""

import sqlite3
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import httpx2
import pytest

processes = import_module("03-oauth-mcp.tests.support.processes")
log_showing = import_module("03-oauth-mcp.tests.support.server_log").log_showing
fake_github = import_module("03-oauth-mcp.tests.support.fake_github")
OAuth = import_module("03-oauth-mcp.tests.support.oauth_driver").OAuth


@pytest.fixture(scope="module")
def github() -> Iterator[Any]:
    with fake_github.FakeGitHub().running() as fake:
        yield fake


@pytest.fixture(scope="module")
def upstream_server(tmp_path_factory, github) -> Iterator[Any]:
    """An authorization server offering "Approve with GitHub", the fake one."""
    db = tmp_path_factory.mktemp("upstream") / "auth.db"
    flags = ["--github-client-id", fake_github.CLIENT_ID, "--github-client-secret", fake_github.CLIENT_SECRET]
    with processes.start_process("auth_server", "--db", str(db), *flags, "--github-url", github.url) as server:
        yield server


@pytest.fixture(scope="module")
def upstream_oauth(upstream_server) -> Iterator[Any]:
    oauth = OAuth(upstream_server.base_url)
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


def test_sign_in_with_github_issues_our_token_never_githubs(upstream_oauth, github) -> None:
    oauth = upstream_oauth
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
        f"{oauth.base_url}/authorize/github/callback", params={"code": fake_github.CODE, "state": github_state}
    )
    response = oauth.redeem(client["client_id"], oauth.query_of(back.headers["location"])["code"], verifier)
    assert response.status_code == 200, response.text
    assert fake_github.TOKEN not in response.text
    assert oauth.verify(response.json()["access_token"])[1]["sub"] == "github:octocat"


def test_github_callback_in_another_browser_is_refused(upstream_oauth) -> None:
    oauth = upstream_oauth
    _, _, github_params = to_github(oauth, oauth.register()["client_id"])
    stranger = httpx2.get(
        f"{oauth.base_url}/authorize/github/callback",
        params={"code": fake_github.CODE, "state": github_params["state"]},
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


def test_neither_githubs_code_nor_its_token_reaches_the_log(upstream_oauth, upstream_server) -> None:
    oauth = upstream_oauth
    browser, _, github_params = to_github(oauth, oauth.register()["client_id"])
    callback = f"{oauth.base_url}/authorize/github/callback"
    back = browser.get(callback, params={"code": fake_github.CODE, "state": github_params["state"]})
    assert back.status_code == 302

    # uvicorn's access log writes the callback's URL: the code in it is written as ****.
    logged = log_showing(upstream_server, "/authorize/github/callback?")
    assert "/authorize/github/callback?code=****&state=****" in logged
    assert fake_github.CODE not in logged
    assert fake_github.TOKEN not in logged


def test_approve_with_github_posted_again_and_again_keeps_one_upstream_login(upstream_oauth, upstream_server) -> None:
    # Each POST of "Approve with GitHub" kept an upstream login of its own for ten minutes: one consent
    # page, which anyone can open, could fill the database. Only the latest is kept; the browser follows it.
    oauth = upstream_oauth
    browser = httpx2.Client(timeout=10)
    page = browser.get(oauth.authorize_url(oauth.register()["client_id"])[0])
    form = {**oauth.hidden_inputs(page.text), "decision": "github"}
    states = [oauth.query_of(browser.post(f"{oauth.base_url}/authorize", data=form).headers["location"])["state"]]
    states += [oauth.query_of(browser.post(f"{oauth.base_url}/authorize", data=form).headers["location"])["state"]]
    db = upstream_server.process.args[upstream_server.process.args.index("--db") + 1]
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as rows:
        kept = {state for (state,) in rows.execute("SELECT state FROM upstream_logins")}
    assert states[0] not in kept and states[1] in kept
    callback = f"{oauth.base_url}/authorize/github/callback"
    assert browser.get(callback, params={"code": fake_github.CODE, "state": states[0]}).status_code == 400
    assert browser.get(callback, params={"code": fake_github.CODE, "state": states[1]}).status_code == 302


def test_github_flags_come_in_pairs() -> None:
    result = processes.run_cli("auth_server", "--github-client-id", "gh-app", env={"GITHUB_CLIENT_SECRET": ""})
    assert result.returncode == 2
    assert "--github-client-secret" in result.stderr
