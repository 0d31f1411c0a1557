"""Malformed input, generated: a thousand requests no OAuth client would send, and never a 5xx.

hypothesis builds requests for every endpoint of the authorization server: forms and queries with
OAuth parameter names and odd values (control characters, quotes, huge strings, repeated names),
bodies that are not JSON, not UTF-8, or JSON of the wrong shape, odd Content-Type and Authorization
headers, and the wrong methods. Each must get an answer below 500: a refusal is fine, a crash is
not. Afterwards the same server still runs a whole code flow.

Below the fuzz test, one plain test for each input that produced a 500 before it was fixed.
"""

import base64
import json
import string
from importlib import import_module
from typing import Any
from urllib.parse import urlencode

import httpx2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REDIRECT_URI = import_module("03-oauth-mcp.tests.support.oauth_driver").REDIRECT_URI

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
values = st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=40))
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
    st.just(b"{" + b'"a":' * 5_000 + b"1}"),
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


def test_a_thousand_malformed_requests_get_no_5xx_and_the_server_keeps_serving(oauth, public_client) -> None:
    # From another loopback address, as an attacker would be: the wrong secrets and registrations
    # it sends are throttled per address, and must not slow down the code flow that follows.
    fuzzer = httpx2.HTTPTransport(local_address="127.0.0.2")
    with httpx2.Client(base_url=oauth.base_url, timeout=10, transport=fuzzer) as http:  # one keep-alive connection

        @settings(
            max_examples=1000,
            deadline=None,
            database=None,
            derandomize=True,  # the same thousand requests on every run: a failure repeats in CI
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


# -- inputs that produced a 500 before they were fixed ---------------------------------------------


def test_basic_credentials_that_are_not_utf8_are_invalid_client(oauth) -> None:
    # Authlib decodes them unchecked: UnicodeDecodeError, a 500 (oauth.py, authenticate_client).
    header = {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:secret").decode()}
    response = oauth.http.post(f"{oauth.base_url}/token", data={"grant_type": "client_credentials"}, headers=header)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_grant_types_that_are_not_strings_are_invalid_client_metadata(oauth) -> None:
    # Authlib put them in a set(): TypeError, unhashable list (registration.py, CLAIM_TYPES).
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
