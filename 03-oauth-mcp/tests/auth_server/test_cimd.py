"""Client ID Metadata Documents: the client_id is a URL, and the server fetches what it names."""

import pytest


def client_document(url: str, **overrides) -> dict:
    return {
        "client_id": url,
        "client_name": "Document client",
        "redirect_uris": ["http://127.0.0.1:53682/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        **overrides,
    }


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_metadata_document_on_a_loopback_address_is_refused(oauth, document_server, host) -> None:
    url = document_server.url(host=host, scheme="https")
    document_server.document = client_document(url)
    before = document_server.requests
    auth_url, _, _ = oauth.authorize_url(url)
    page = oauth.http.get(auth_url)
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "invalid_client" in page.text
    assert "loopback" in page.text
    assert document_server.requests == before  # refused before connecting


def test_metadata_document_over_http_needs_the_allow_list(oauth, document_server) -> None:
    url = document_server.url()
    document_server.document = client_document(url)
    page = oauth.http.get(oauth.authorize_url(url)[0])
    assert page.status_code == 400
    assert "must use https" in page.text


@pytest.fixture(scope="module")
def allow_listed(launch, tmp_path_factory, oauth_for):
    """A second server that may fetch documents from 127.0.0.1, over http: --cimd-allow-host."""
    db = tmp_path_factory.mktemp("cimd") / "auth.db"
    with launch("auth_server", "--db", str(db), "--cimd-allow-host", "127.0.0.1") as server:
        yield oauth_for(server.base_url)


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
