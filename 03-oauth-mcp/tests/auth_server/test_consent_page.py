"""The login-and-consent page: what it shows, how it is protected, and what a wrong answer does."""

import re
import sqlite3
from typing import Any

import httpx2

from lesson03.auth_server.optional import pending_limits
from lesson03.tests.support.oauth_driver import OAuth


def open_page(oauth, client_id: str, **overrides: str | None) -> tuple[httpx2.Client, httpx2.Response]:
    browser = httpx2.Client(timeout=10)
    url, _, _ = oauth.authorize_url(client_id, **overrides)
    return browser, browser.get(url)


def test_page_shows_client_host_scopes_and_a_loopback_warning(oauth, public_client) -> None:
    _, page = open_page(oauth, public_client["client_id"], scope="journal:read journal:write")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<strong>Test MCP client</strong> wants to access your journal" in page.text
    assert '<p class="host">127.0.0.1</p>' in page.text
    assert "this computer" in page.text  # loopback-only redirect URIs get a warning
    assert "Read your journal entries" in page.text
    assert "Create and change journal entries" in page.text
    # The ids a browser test fills in.
    for element in (
        'id="username"',
        'id="password"',
        'name="decision" value="approve"',
        'name="decision" value="deny"',
    ):
        assert element in page.text


def test_page_forbids_framing_and_scripts(oauth, public_client) -> None:
    _, page = open_page(oauth, public_client["client_id"])
    assert page.headers["x-frame-options"] == "DENY"
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert page.headers["cache-control"] == "no-store"
    nonce = re.search(r"style-src 'nonce-([^']+)'", csp).group(1)
    assert f'<style nonce="{nonce}">' in page.text


def test_csrf_cookie_is_httponly_and_samesite(oauth, public_client) -> None:
    _, page = open_page(oauth, public_client["client_id"])
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/authorize" in cookie


def test_client_name_is_escaped(oauth) -> None:
    client = oauth.register(client_name='<script>alert("x")</script>')
    _, page = open_page(oauth, client["client_id"])
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


def test_wrong_password_shows_the_form_again(oauth, public_client) -> None:
    browser, page = open_page(oauth, public_client["client_id"])
    form = {**oauth.hidden_inputs(page.text), "username": "alice", "password": "queen", "decision": "approve"}
    again = browser.post(f"{oauth.base_url}/authorize", data=form)
    assert again.status_code == 401
    assert "location" not in again.headers
    assert "Wrong username or password." in again.text
    assert 'value="alice"' in again.text
    # The same pending request still works with the right password.
    form["password"] = "wonderland"
    approved = browser.post(f"{oauth.base_url}/authorize", data=form)
    assert approved.status_code == 302
    assert "code" in oauth.query_of(approved.headers["location"])


def test_unknown_user_is_refused_like_a_wrong_password(oauth, public_client) -> None:
    browser, page = open_page(oauth, public_client["client_id"])
    form = {**oauth.hidden_inputs(page.text), "username": "mallory", "password": "x", "decision": "approve"}
    response = browser.post(f"{oauth.base_url}/authorize", data=form)
    assert response.status_code == 401
    assert "Wrong username or password." in response.text


def test_missing_or_wrong_csrf_token_is_refused(oauth, public_client) -> None:
    browser, page = open_page(oauth, public_client["client_id"])
    fields = oauth.hidden_inputs(page.text)
    credentials = {"username": "alice", "password": "wonderland", "decision": "approve"}
    for csrf in ({}, {"csrf_token": "forged"}):
        form = {"request_id": fields["request_id"], **csrf, **credentials}
        response = browser.post(f"{oauth.base_url}/authorize", data=form)
        assert response.status_code == 403
        assert "location" not in response.headers
        assert response.headers["x-frame-options"] == "DENY"


def test_form_posted_without_the_browser_cookie_is_refused(oauth, public_client) -> None:
    # Another browser (an attacker's page submitting the victim's form) lacks the cookie.
    _, page = open_page(oauth, public_client["client_id"])
    form = {**oauth.hidden_inputs(page.text), "username": "alice", "password": "wonderland", "decision": "approve"}
    response = httpx2.post(f"{oauth.base_url}/authorize", data=form, timeout=10)
    assert response.status_code == 403


def test_a_pending_request_is_single_use(oauth, public_client) -> None:
    browser, page = open_page(oauth, public_client["client_id"])
    form = {**oauth.hidden_inputs(page.text), "username": "alice", "password": "wonderland", "decision": "approve"}
    assert browser.post(f"{oauth.base_url}/authorize", data=form).status_code == 302
    again = browser.post(f"{oauth.base_url}/authorize", data=form)
    assert again.status_code == 400
    assert "expired" in again.text


def test_unknown_decision_is_refused(oauth, public_client) -> None:
    browser, page = open_page(oauth, public_client["client_id"])
    form = {**oauth.hidden_inputs(page.text), "username": "alice", "password": "wonderland", "decision": "maybe"}
    assert browser.post(f"{oauth.base_url}/authorize", data=form).status_code == 400


def test_github_is_off_by_default(oauth, public_client) -> None:
    url, _, _ = oauth.authorize_url(public_client["client_id"])
    assert "Approve with" not in oauth.http.get(url).text
    assert oauth.http.get(f"{oauth.base_url}/authorize/github/callback").status_code == 404


def test_loopback_warning_follows_this_requests_redirect_uri(oauth) -> None:
    # Registering an https URI as well must not hide the warning when this request goes to loopback.
    client = oauth.register(redirect_uris=[oauth.REDIRECT_URI, "https://app.example/callback"])
    _, to_loopback = open_page(oauth, client["client_id"])
    assert "this computer" in to_loopback.text
    _, to_https = open_page(oauth, client["client_id"], redirect_uri="https://app.example/callback")
    assert '<p class="host">app.example</p>' in to_https.text
    assert "this computer" not in to_https.text


def test_a_browser_cookie_value_the_client_chose_is_replaced(oauth, public_client) -> None:
    chosen = "a-value-another-page-on-this-host-planted"
    browser = oauth.browser()
    browser.cookies.set("authz_browser", chosen, domain="127.0.0.1", path="/authorize")
    page = browser.get(oauth.authorize_url(public_client["client_id"])[0])
    issued = page.cookies["authz_browser"]
    assert issued != chosen and len(issued) >= 43  # 256 random bits, generated here
    # A value this server issued is kept: a second tab in the same browser still works.
    second = browser.get(oauth.authorize_url(public_client["client_id"])[0])
    assert "set-cookie" not in second.headers or second.cookies["authz_browser"] == issued
    form = {**oauth.hidden_inputs(page.text), "username": "alice", "password": "wonderland", "decision": "approve"}
    assert browser.post(f"{oauth.base_url}/authorize", data=form).status_code == 302


# -- pending authorizations: each bounded, and only so many (optional/pending_limits.py) -----------


def pending_authorizations(server: Any, client_id: str | None = None) -> list[tuple[str, int]]:
    """(client_id, size of what is kept) of every pending authorization in the server's database, read-only."""
    db = server.args[server.args.index("--db") + 1]
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as rows:
        kept = rows.execute("SELECT client_id, length(params) FROM pending_authorizations").fetchall()
    return [(owner, size) for owner, size in kept if client_id in (None, owner)]


def test_an_anonymous_flood_of_authorization_requests_keeps_nothing_big(oauth, auth_server, public_client) -> None:
    # 200 GET /authorize with a 12 KB state each grew the database by 2.6 MB, for ten minutes, without a
    # sign-in. A state that long is refused, before anything is fetched or kept; an unknown parameter
    # that long is dropped: no grant reads it.
    before = pending_authorizations(auth_server)
    flooder = OAuth(oauth.base_url, address="127.0.0.40")
    for _ in range(20):
        refused = flooder.http.get(flooder.authorize_url(public_client["client_id"], state="s" * 12_000)[0])
        assert refused.status_code == 400
        assert "invalid_request" in refused.text
        assert "The state parameter is longer than 1024 characters." in refused.text
        assert "location" not in refused.headers and "set-cookie" not in refused.headers
    assert pending_authorizations(auth_server) == before
    long_scope = " ".join(["journal:read"] * 1000)  # every scope in it is supported, 13 KB of them
    assert flooder.http.get(flooder.authorize_url(public_client["client_id"], scope=long_scope)[0]).status_code == 400
    shown = flooder.http.get(flooder.authorize_url(public_client["client_id"], x="x" * 12_000)[0])
    assert shown.status_code == 200
    after = pending_authorizations(auth_server)
    assert len(after) == len(before) + 1
    assert max(size for _, size in after) < 1000  # what the flow reads, and not the 12 KB besides
    flooder.close()


def test_one_address_keeps_only_its_newest_pending_authorizations(oauth, auth_server) -> None:
    client_id = oauth.register()["client_id"]  # a client of its own: the count per client stays out of it
    sender = OAuth(oauth.base_url, address="127.0.0.41")
    first = sender.open_consent(client_id)
    for _ in range(pending_limits.MAX_PENDING_PER_ADDRESS):
        assert sender.http.get(sender.authorize_url(client_id)[0]).status_code == 200
    assert len(pending_authorizations(auth_server, client_id)) == pending_limits.MAX_PENDING_PER_ADDRESS
    # The oldest gave way: its user reads "expired" and starts again. The newest always goes ahead.
    assert "expired" in sender.answer(first).text
    assert sender.authorize(client_id).response.status_code == 302
    sender.close()


def test_one_client_keeps_only_its_newest_pending_authorizations(oauth, auth_server) -> None:
    client_id = oauth.register()["client_id"]
    user = OAuth(oauth.base_url, address="127.0.0.50")
    first = user.open_consent(client_id)
    per_address, per_client = pending_limits.MAX_PENDING_PER_ADDRESS, pending_limits.MAX_PENDING_PER_CLIENT
    for n in range(per_client // per_address):  # from several addresses, none over its own bound
        sender = OAuth(oauth.base_url, address=f"127.0.0.{51 + n}")
        for _ in range(per_address):
            assert sender.http.get(sender.authorize_url(client_id)[0]).status_code == 200
        sender.close()
    assert len(pending_authorizations(auth_server, client_id)) == pending_limits.MAX_PENDING_PER_CLIENT
    assert "expired" in user.answer(first).text
    assert user.authorize(client_id).response.status_code == 302
    user.close()
