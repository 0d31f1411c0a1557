"""Client ID Metadata Documents: the client_id is a URL, and the server fetches what it names."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from lesson03.tests.support import scripted_http
from lesson03.tests.support.document_server import client_document
from lesson03.tests.support.in_process_auth_server import auth_server_in_thread
from lesson03.tests.support.oauth_driver import OAuth
from lesson03.tests.support.server_log import log_showing

UNREACHABLE = "could not be fetched from a public address"  # the page's one reason for network failures


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_metadata_document_on_a_loopback_address_is_refused(oauth, auth_server, document_server, host) -> None:
    url = document_server.url(host=host, scheme="https", path=f"/loopback/{host}.json")
    document_server.document = client_document(url)
    before = document_server.requests
    auth_url, _, _ = oauth.authorize_url(url)
    page = oauth.http.get(auth_url)
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "invalid_client" in page.text
    assert document_server.requests == before  # refused before connecting
    # The page gives a generic reason: what a name resolves to is for the log only, or the page
    # would tell anyone which internal names exist and where they point.
    assert UNREACHABLE in page.text
    assert "resolves" not in page.text and "127.0.0.1" not in page.text.replace(url, "")
    assert log_showing(auth_server, f"{host} resolves to 127.0.0.1")  # the detail is for the log


def test_unresolvable_host_and_private_address_get_the_same_page(oauth) -> None:
    answers = []
    for url in ("https://no-such-host.invalid/client.json", "https://10.0.0.1/client.json"):
        page = oauth.http.get(oauth.authorize_url(url)[0])
        assert page.status_code == 400
        answers.append(page.text.replace(url, "URL").split("<p><small>")[1])  # the reason shown
    assert answers[0] == answers[1]
    assert UNREACHABLE in answers[0]
    assert "Errno" not in answers[0] and "Name or service" not in answers[0]


def test_metadata_document_over_http_needs_the_allow_list(oauth, document_server) -> None:
    url = document_server.url()
    document_server.document = client_document(url)
    page = oauth.http.get(oauth.authorize_url(url)[0])
    assert page.status_code == 400
    assert "must use https" in page.text


@pytest.fixture(scope="module")
def allow_listed(tmp_path_factory):
    """A second server that may fetch documents from 127.0.0.1, over http (--cimd-allow-host), and keeps
    two of them at most (--cimd-cache-size), so that a test sees the cache make room."""
    db = tmp_path_factory.mktemp("cimd") / "auth.db"
    arguments = ["--db", str(db), "--cimd-allow-host", "127.0.0.1", "--cimd-cache-size", "2"]
    with auth_server_in_thread(*arguments) as server:
        oauth = OAuth(server.base_url)
        yield oauth
        oauth.close()


def test_metadata_document_accepted_from_an_allow_listed_host(allow_listed, document_server) -> None:
    url = document_server.url()
    document_server.document = client_document(url)
    token, authorization = allow_listed.code_flow(url, scope="journal:read journal:write")
    assert "Document client" in authorization.page.text
    assert f"<code>{url}</code>" in authorization.page.text
    _, claims = allow_listed.verify(token["access_token"])
    assert claims["client_id"] == url
    refreshed = allow_listed.refresh(url, token["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text


def test_the_document_cache_is_bounded_and_keeps_the_most_recently_used(allow_listed, document_server) -> None:
    # Anyone can publish documents at as many URLs as they like and have the server fetch each: a cache
    # without a bound would keep them all. This server keeps two.
    def authorize(name: str) -> int:
        """Show the consent page for the client whose document is at /lru/<name>.json; how many fetches it took."""
        url = document_server.url(path=f"/lru/{name}.json")
        document_server.document = client_document(url)
        before = document_server.requests
        page = allow_listed.http.get(allow_listed.authorize_url(url)[0])
        assert page.status_code == 200, page.text
        return document_server.requests - before

    assert [authorize(name) for name in ("a", "b", "a")] == [1, 1, 0]  # a is cached, and now the most recent
    assert authorize("c") == 1  # full: b, the least recently used, makes room
    assert [authorize("a"), authorize("b")] == [0, 1]


@pytest.mark.parametrize(
    ("name", "overrides", "reason"),
    [
        ("impostor", {"client_id": "https://someone.else/client.json"}, "client_id is not its own URL"),
        ("unlisted-redirect", {"redirect_uris": ["https://other.example/cb"]}, "invalid_request"),
        ("nameless", {"client_name": ""}, "no client_name"),
        ("secret", {"token_endpoint_auth_method": "client_secret_basic"}, "only token_endpoint_auth_method none"),
        ("http-redirect", {"redirect_uris": ["http://example.com/cb"]}, "is http but not loopback"),
        ("huge", {"client_name": "x" * 70_000}, "larger than 65536 bytes"),
    ],
)
def test_metadata_document_that_does_not_fit_is_refused(allow_listed, document_server, name, overrides, reason) -> None:
    url = document_server.url(path=f"/bad/{name}.json")  # a fresh URL: documents are cached by URL
    document_server.document = client_document(url, **overrides)
    page = allow_listed.http.get(allow_listed.authorize_url(url)[0])
    assert page.status_code == 400
    assert "location" not in page.headers
    assert reason in page.text


def test_metadata_document_behind_a_redirect_is_refused(allow_listed, document_server) -> None:
    url = document_server.url(path="/moved.json")
    document_server.document, document_server.status = client_document(url), 302
    try:
        page = allow_listed.http.get(allow_listed.authorize_url(url)[0])
    finally:
        document_server.status = 200
    assert page.status_code == 400
    assert "answered HTTP 302" in page.text


@pytest.mark.parametrize("client_id", ["https://[zz]/client.json", "https://127.0.0.1:1/", "ftp://127.0.0.1/c.json"])
def test_malformed_metadata_document_urls_are_refused(oauth, client_id) -> None:
    page = oauth.http.get(oauth.authorize_url(client_id)[0])
    assert page.status_code == 400
    assert "location" not in page.headers


def test_a_document_dripped_out_slowly_is_refused_after_the_deadline(allow_listed, document_server) -> None:
    # Each byte arrives well within any per-read timeout, the whole takes 24 s: the fetch must
    # give up at its total deadline (5 s), not hold the request for as long as the server likes.
    url = document_server.url(path="/slow.json")
    document_server.document, document_server.drip_seconds = client_document(url), 24.0
    try:
        page = allow_listed.http.get(allow_listed.authorize_url(url)[0], timeout=30)
    finally:
        document_server.drip_seconds = 0.0
    assert page.status_code == 400
    assert UNREACHABLE in page.text
    assert page.elapsed.total_seconds() < 15


@pytest.fixture(scope="module")
def hostile_host() -> Iterator[Any]:
    """A client's web server publishing whatever bytes a test scripts, well-formed or not."""
    with scripted_http.ScriptedServer().running() as server:
        yield server


HOSTILE_MEMBERS = {
    "nested-member": {"x": json.loads("[" * 17 + "]" * 17)},  # 17 levels inside the document's object
    "grant-types-of-arrays": {"grant_types": [["authorization_code"]]},
    "name-a-number": {"client_name": 7},
}


def hostile_document(name: str, url: str) -> bytes:
    if name == "nested":
        return b"[" * 30_000
    if name == "not-utf8":
        return b"\xff\xfe{"
    return json.dumps(client_document(url, **HOSTILE_MEMBERS[name])).encode()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("nested", "nested deeper than 16 levels"),
        ("nested-member", "nested deeper than 16 levels"),
        ("grant-types-of-arrays", "grant_types has the wrong JSON type"),
        ("name-a-number", "client_name has the wrong JSON type"),
        ("not-utf8", "not JSON"),
    ],
)
def test_a_document_of_hostile_json_is_refused_at_authorize_and_at_token(
    allow_listed, hostile_host, name, reason
) -> None:
    # Thirty thousand `[` made json.loads raise RecursionError, and grant_types of arrays made set()
    # raise TypeError: each a 500 at GET /authorize and at POST /token, from a document anyone can publish.
    url = f"{hostile_host.url}/hostile/{name}.json"
    hostile_host.script(f"/hostile/{name}.json", hostile_document(name, url))
    page = allow_listed.http.get(allow_listed.authorize_url(url)[0])
    assert page.status_code == 400, page.text
    assert "invalid_client" in page.text and reason in page.text
    assert "location" not in page.headers
    form = {"grant_type": "authorization_code", "code": "x", "client_id": url, "code_verifier": "v" * 43}
    token = allow_listed.http.post(f"{allow_listed.base_url}/token", data=form)
    assert token.status_code in (400, 401), token.text
    assert token.json()["error"] == "invalid_client"


def test_a_client_id_url_longer_than_a_uri_may_be_is_never_fetched(allow_listed, hostile_host) -> None:
    # At /token, only the 64 KiB body limit bounded it: each such URL fetched, and kept as a cache key.
    url = f"{hostile_host.url}/{'a' * 2100}.json"
    hostile_host.script(url.removeprefix(hostile_host.url), json.dumps(client_document(url)).encode())
    form = {"grant_type": "authorization_code", "code": "x", "client_id": url, "code_verifier": "v" * 43}
    token = allow_listed.http.post(f"{allow_listed.base_url}/token", data=form)
    assert token.status_code in (400, 401) and token.json()["error"] == "invalid_client"
    assert not [path for _, path in hostile_host.requests if path.startswith("/aaaa")]
