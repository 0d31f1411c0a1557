"""Malformed input, generated: requests no OAuth client would send (250, or 2,000 in `make fuzz`), never a 5xx.

hypothesis builds requests for every endpoint of the authorization server: forms and queries with
OAuth parameter names and odd values (control characters, quotes, huge strings, repeated names),
bodies that are not JSON, not UTF-8, or JSON of the wrong shape, odd Content-Type and Authorization
headers, and the wrong methods. Each must get an answer below 500: a refusal is fine, a crash is
not. Afterwards the same server still runs a whole code flow.

Then one fuzz target for each parser of JSON from another party (bounded_json.py): /register bodies,
client metadata documents and GitHub's answers, the last two served by a scripted web server
(scripted_http.py) that this module's authorization server fetches from: it runs with
`--cimd-allow-host 127.0.0.1` and "sign in with GitHub" pointed at that server.

Below the fuzz tests, one plain test for each input that produced a 500 before it was fixed.
"""

import base64
import itertools
import json
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lesson03.tests.support import scripted_http
from lesson03.tests.support.document_server import client_document
from lesson03.tests.support.in_process_auth_server import auth_server_in_thread
from lesson03.tests.support.oauth_driver import REDIRECT_URI, OAuth

JSON = {"Content-Type": "application/json"}
GITHUB_TOKEN_PATH, GITHUB_USER_PATH = "/login/oauth/access_token", "/api/v3/user"  # GitHub Enterprise's layout


@pytest.fixture(scope="module")
def scripted() -> Iterator[Any]:
    """Whoever the authorization server reads JSON from: a client's document host, and GitHub."""
    with scripted_http.ScriptedServer().running() as server:
        yield server


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory, scripted: Any) -> Iterator[Any]:
    """This module's authorization server (it replaces conftest's): it also fetches metadata documents from
    127.0.0.1 and signs users in with a "GitHub" at `scripted`, so that every parser has a way in."""
    db = tmp_path_factory.mktemp("fuzz") / "auth.db"
    github = ["--github-client-id", "app", "--github-client-secret", "app-secret", "--github-url", scripted.url]
    with auth_server_in_thread("--db", str(db), "--cimd-allow-host", "127.0.0.1", *github) as server:
        yield server


# The endpoints that parse input come first, and twice: hypothesis draws early entries more often.
ENDPOINTS = [
    ("POST", "/token"),
    ("POST", "/register"),
    ("POST", "/authorize"),
    ("GET", "/authorize"),
    ("POST", "/introspect"),
    ("POST", "/revoke"),
    ("POST", "/token"),
    ("POST", "/register"),
    ("GET", "/authorize"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/jwks.json"),
    ("GET", "/authorize/github/callback"),
]
PARAMETERS = [
    "grant_type", "code", "redirect_uri", "client_id", "client_secret", "code_verifier", "refresh_token", "scope",
    "resource", "token", "token_type_hint", "response_type", "state", "code_challenge", "code_challenge_method",
    "request_id", "csrf_token", "username", "password", "decision",
]  # fmt: skip
CLAIMS = [
    "redirect_uris", "token_endpoint_auth_method", "grant_types", "response_types", "client_name", "client_uri",
    "logo_uri", "scope", "contacts", "tos_uri", "policy_uri", "jwks_uri", "jwks", "software_id", "software_version",
    "application_type", "software_statement",
]  # fmt: skip
ODD_VALUES = [
    "", " ", "\x00", "\r\n", "\n", '"', "\\", "'", "%0a", "%00", "\u202e", "\ud7ff", "é", "💥", "a" * 5000,
    "authorization_code", "refresh_token", "client_credentials", "password", "code", "token", "S256", "plain",
    "none", "client_secret_basic", "native", "web", "approve", "deny", "github", "journal:read", "journal:write",
    "journal:read journal:write admin", "journal-bot", "journal-mcp-server", REDIRECT_URI, REDIRECT_URI + '"',
    "http://127.0.0.1:8095/mcp", "https://127.0.0.1/client.json", "https://[::1]/c.json", "https://[zz]/x",
    "http://[::1", "javascript:alert(1)", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "-1", "1e309", "null",
]  # fmt: skip

names = st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=10))


def odd_value(index: int) -> str:
    return ODD_VALUES[index]


# By index: a strategy's repr lists what it samples, and Hypothesis warns of reprs holding 5,000 a's many times over.
values = st.one_of(st.sampled_from(range(len(ODD_VALUES))).map(odd_value), st.text(max_size=40))
pairs = st.lists(st.tuples(names, values), max_size=8)  # repeated names included
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | values,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
registrations = st.dictionaries(st.sampled_from(CLAIMS) | st.text(max_size=8), json_values, max_size=6)
bodies = st.one_of(
    pairs.map(lambda items: urlencode(items).encode()),  # a form
    registrations.map(lambda data: json.dumps(data).encode()),  # JSON of the wrong shape
    json_values.map(lambda data: json.dumps(data).encode()),  # JSON that is not an object
    st.binary(max_size=200),  # not UTF-8, not anything
    st.integers(1, 20_000).map(lambda depth: b"[" * depth),  # nested deeper than Python recurses
    st.just(5_000).map(lambda keys: b"{" + b'"a":' * keys + b"1}"),  # built when drawn: a short repr
)
content_types = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/json",
        "application/json; charset=latin-1",
        "multipart/form-data; boundary=x",
        "multipart/form-data",
        "text/plain",
        "",
        "application/x-www-form-urlencoded; charset=utf-16",
    ]
)
basic_credentials = st.one_of(
    st.binary(max_size=40).map(lambda raw: "Basic " + base64.b64encode(raw).decode()),  # invalid UTF-8, no colon
    st.sampled_from(["journal-bot", "journal-mcp-server", "x"]).flatmap(
        lambda user: values.map(lambda secret: "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode())
    ),
    st.sampled_from(["Basic", "Basic !!!", "Basic ==", "Bearer x", "basic Og==", "Digest x"]),
)
header_text = st.text(alphabet=string.ascii_letters + string.digits + " ;=,/-_.:*\"'", max_size=30)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    method, path = draw(st.sampled_from(ENDPOINTS))
    if draw(st.integers(0, 9)) == 0:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
    headers = {"Content-Type": draw(content_types)}
    if draw(st.booleans()):
        headers["Authorization"] = draw(basic_credentials)
    if draw(st.integers(0, 4)) == 0:
        headers["Accept"] = draw(header_text)
    if draw(st.integers(0, 4)) == 0:
        headers["Cookie"] = "authz_browser=" + draw(header_text.filter(lambda text: ";" not in text))
    query = urlencode(draw(pairs)) if method == "GET" or draw(st.integers(0, 4)) == 0 else ""
    body = draw(bodies) if method != "GET" else b""
    headers = {name: value.strip() for name, value in headers.items()}  # HTTP forbids the padding, httpx2 too
    return {"method": method, "url": f"{path}?{query}" if query else path, "headers": headers, "content": body}


def test_malformed_requests_get_no_5xx_and_the_server_keeps_serving(oauth, public_client) -> None:
    # From another loopback address, as an attacker would be: the wrong secrets and registrations
    # it sends are throttled per address, and must not slow down the code flow that follows.
    fuzzer = httpx2.HTTPTransport(local_address="127.0.0.2")
    with httpx2.Client(base_url=oauth.base_url, timeout=10, transport=fuzzer) as http:  # one keep-alive connection

        @settings(  # how many requests, and whether the same ones each run: the suite's profile (conftest.py)
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(request=requests())
        def answered_below_500(request: dict[str, Any]) -> None:
            response = http.request(**request)
            assert response.status_code < 500, (request, response.status_code, response.text[:500])

        answered_below_500()

    assert oauth.http.get(f"{oauth.base_url}/healthz").status_code == 200
    token, _ = oauth.code_flow(public_client["client_id"])
    assert oauth.active(token["access_token"])
    assert oauth.refresh(public_client["client_id"], token["refresh_token"]).status_code == 200


# -- one fuzz target per parser of another party's JSON --------------------------------------------


def fuzzed(examples: int) -> Any:
    """hypothesis settings for a target worth `examples` requests of the suite's time; the same ones every run."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# JSON as hostile parties write it: deeper than any bound, every type where another belongs.
nested = st.integers(1, 40).map(lambda depth: json.loads("[" * depth + "]" * depth))
unpaired_surrogates = st.sampled_from(["\ud800", "x\udfffy"])  # valid JSON escapes, no Unicode text
hostile_values = st.one_of(json_values, nested, unpaired_surrogates, st.lists(nested | json_values, max_size=3))
jwk_members = st.sampled_from(["kty", "crv", "x", "y", "n", "e", "k", "d"])
jwk_values = hostile_values | st.sampled_from(["EC", "RSA", "OKP", "oct", "X25519", "P-256", "AQAB", "AA"])
jwks = st.one_of(
    hostile_values,
    st.fixed_dictionaries({"keys": hostile_values | st.lists(st.dictionaries(jwk_members, jwk_values), max_size=2)}),
)
raw_json = st.one_of(
    st.integers(1, 40_000).map(lambda depth: b"[" * depth),
    st.integers(1, 60).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.sampled_from([b"NaN", b'{"a": Infinity}', b"-Infinity", b"1e999", b"\xff", b"", b"null", b"[]", b'"x"']),
)


def documents(base: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """`base`, with members replaced or added by hostile values; or raw bytes that are no such document."""
    members = st.dictionaries(st.sampled_from(CLAIMS) | st.text(max_size=8), hostile_values, max_size=4)
    changed = st.one_of(members, st.fixed_dictionaries({"jwks": jwks})).map(lambda extra: {**base, **extra})
    return st.one_of(changed.map(lambda document: json.dumps(document).encode()), raw_json)


def test_registration_bodies_get_an_oauth_error_never_a_5xx(oauth) -> None:
    # From an address of its own: its registrations are throttled (429), which is an answer too.
    base = {"redirect_uris": [REDIRECT_URI], "client_name": "Fuzzed", "token_endpoint_auth_method": "none"}
    registrar = OAuth(oauth.base_url, address="127.0.0.3")

    @fuzzed(200)
    @given(body=documents(base))
    def registered_or_refused(body: bytes) -> None:
        headers = {"Content-Type": "application/json"}
        response = registrar.http.post(f"{oauth.base_url}/register", content=body, headers=headers)
        assert response.status_code in (201, 400, 429), (body[:300], response.status_code, response.text[:300])
        if response.status_code == 400:
            assert response.json()["error"] in ("invalid_request", "invalid_client_metadata", "invalid_redirect_uri")

    try:
        registered_or_refused()
    finally:
        registrar.close()


def test_client_metadata_documents_get_an_oauth_error_never_a_5xx(oauth, scripted) -> None:
    paths = (f"/fuzz/document-{n}.json" for n in itertools.count())  # a new URL each: documents are cached

    @fuzzed(100)
    @given(data=st.data())
    def shown_or_refused(data: st.DataObject) -> None:
        path = next(paths)
        url = f"{scripted.url}{path}"
        scripted.script(path, data.draw(documents(client_document(url))))
        page = oauth.http.get(oauth.authorize_url(url)[0])
        assert page.status_code in (200, 400), (page.status_code, page.text[:300])
        form = {"grant_type": "authorization_code", "code": "x", "client_id": url, "code_verifier": "v" * 43}
        token = oauth.http.post(f"{oauth.base_url}/token", data=form)
        assert token.status_code < 500, token.text[:300]

    shown_or_refused()


def test_githubs_answers_end_the_sign_in_with_a_redirect_never_a_5xx(oauth, public_client, scripted) -> None:
    token_answers = st.one_of(
        documents({"access_token": "gho_fuzzed", "token_type": "bearer"}),
        st.just(json.dumps({"error": "bad_verification_code"}).encode()),
    )
    user_answers = documents({"login": "octocat", "id": 1})

    @fuzzed(30)  # each is a sign-in through "GitHub": five requests
    @given(token_answer=token_answers, user_answer=user_answers, status=st.sampled_from([200, 200, 200, 401, 500]))
    def back_to_the_client(token_answer: bytes, user_answer: bytes, status: int) -> None:
        scripted.script(GITHUB_TOKEN_PATH, token_answer)
        scripted.script(GITHUB_USER_PATH, user_answer, status)
        location = through_github(oauth, public_client["client_id"])
        assert location.startswith(REDIRECT_URI), location

    back_to_the_client()


def through_github(oauth: Any, client_id: str) -> str:
    """Consent with "Approve with GitHub", come back from it with a code: where the server sends the browser."""
    authorization = oauth.open_consent(client_id)
    browser = authorization.browser  # its cookie: the callback must come back to the browser that consented
    try:
        form = {**authorization.form, "decision": "github"}
        to_github = browser.post(f"{oauth.base_url}/authorize", data=form)
        assert to_github.status_code == 303, to_github.text
        state = oauth.query_of(to_github.headers["location"])["state"]
        callback = browser.get(f"{oauth.base_url}/authorize/github/callback", params={"state": state, "code": "c"})
    finally:
        browser.close()
    assert callback.status_code == 302, (callback.status_code, callback.text[:300])
    return callback.headers["location"]


# -- inputs that produced a 500 before they were fixed ---------------------------------------------


def test_basic_credentials_that_are_not_utf8_are_invalid_client(oauth) -> None:
    # Authlib decodes them unchecked: UnicodeDecodeError, a 500 (oauth.py, authenticate_client).
    header = {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:secret").decode()}
    response = oauth.http.post(f"{oauth.base_url}/token", data={"grant_type": "client_credentials"}, headers=header)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_grant_types_that_are_not_strings_are_invalid_client_metadata(oauth) -> None:
    # Authlib put them in a set(): TypeError, unhashable list (registration.py, ClientMetadataShape).
    for grant_types in ([["authorization_code"]], "authorization_code", [{"a": 1}], 7):
        response = oauth.register_response(grant_types=grant_types)
        assert response.status_code == 400, grant_types
        assert response.json()["error"] == "invalid_client_metadata"


def test_json_nested_deeper_than_python_recurses_is_invalid_request(oauth) -> None:
    # json.loads raised RecursionError, which is not a ValueError (adapter.py, json_request).
    def register(body: bytes) -> httpx2.Response:
        return oauth.http.post(f"{oauth.base_url}/register", content=body, headers={"Content-Type": "application/json"})

    nested = register(b"[" * 60_000)
    assert nested.status_code == 400
    assert nested.json()["error"] == "invalid_request"
    assert register(b"[" * 100_000).status_code == 413  # 100,000 of them are over the body limit as well


def test_a_key_set_of_the_wrong_shape_is_invalid_client_metadata(oauth) -> None:
    # Authlib gave it to joserfc, which raised TypeError ({"keys": 5}) or KeyError (an unknown curve): a
    # 500. This server uses no client keys, so it takes none (registration.py, validate_jwks_uri).
    for jwks in ({"keys": 5}, {"keys": [{"kty": ["RSA"]}]}, {"keys": [{"kty": "OKP", "crv": "X25519", "x": "AA"}]}):
        response = oauth.register_response(jwks=jwks)
        assert response.status_code == 400, (jwks, response.text)
        assert response.json()["error"] == "invalid_client_metadata"


def test_a_github_answer_nested_deeper_than_python_recurses_is_server_error_for_the_client(
    oauth, public_client, scripted
) -> None:
    # Read with json.loads (optional/github.py), it raised RecursionError; the callback answered 500.
    scripted.script(GITHUB_TOKEN_PATH, json.dumps({"access_token": "gho_x"}).encode())
    for user_answer in (b"[" * 30_000, b"[1]", json.dumps({"login": "octo\ncat"}).encode()):
        scripted.script(GITHUB_USER_PATH, user_answer)
        params = oauth.query_of(through_github(oauth, public_client["client_id"]))
        assert params["error"] == "server_error", (user_answer[:20], params)


def test_a_string_with_an_unpaired_surrogate_is_invalid_request(oauth) -> None:
    # "\ud800" is a valid JSON escape; the registration echoed it, and the response failed to encode: a 500.
    body = {"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none", "software_id": "\ud800"}
    response = oauth.http.post(f"{oauth.base_url}/register", content=json.dumps(body).encode(), headers=JSON)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
