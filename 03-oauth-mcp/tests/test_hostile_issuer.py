"""Lesson 03's MCP server against an issuer that answers hostile or broken JSON: 401 or a tool error, never a 5xx.

Everything the MCP server reads from its issuer is JSON another process wrote: the metadata, the key
set, introspection and token-exchange answers; and after an exchange, the upstream API's answer. The
stand-in issuer (support/issuer.py) answers each with the bytes a test scripts: thirty thousand nested
`[`, a list where an object belongs, a member of the wrong type, a valid document padded past any
bound. The MCP server refuses each as the protocol says: a token it cannot verify is 401
`invalid_token`, an exchange or upstream call that fails is the tool's error. It logs no traceback,
and keeps serving. What it answers and logs is the subject, not its process: each MCP server runs its
own command on a thread of the test process, on a real port (support/in_process_server.py).

The metadata and the keys are read once per server (after a failure, again 30 s later: server/issuer.py),
so each scenario has a JWT-verifying server of its own (the lesson's); its issuer has a path, which gives
it three metadata locations: two hostile, then the real document. Introspection and token exchange are
asked per token and per call: one introspecting server (production's) takes all of theirs.

Then one fuzz target per parser: the metadata and key sets in this process (an Issuer and a JWTVerifier,
the Issuer made to forget between examples, against the stand-in over loopback), the introspection,
exchange and upstream answers through the MCP server.
"""

import json
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.from_thread
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from lesson03.server.issuer import Issuer
from lesson03.server.verifier import JWTVerifier
from lesson03.server_extras.json_answers import MAX_ANSWER_BYTES
from lesson03.tests.support import issuer as issuers
from lesson03.tests.support.in_process_server import ServerInThread, mcp_server_in_thread

ACCEPT = {"Accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}
DEEP = b"[" * 30_000  # json.loads recurses until RecursionError, which is no ValueError
PADDING = "x" * (MAX_ANSWER_BYTES + 1)  # makes any valid document one byte too many to read
ATTACK = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07\x1b[2K\r"  # clipboard write, erase line: text to escape
EVIL_KEY = ec.generate_private_key(ec.SECP256R1())  # the attacker's signing key


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


def post(server: ServerInThread, token: str) -> httpx2.Response:
    headers = {**ACCEPT, "Authorization": f"Bearer {token}"}
    return httpx2.post(server.mcp_url, json=INITIALIZE, headers=headers, timeout=30)


def assert_refused(response: httpx2.Response) -> None:
    assert response.status_code == 401, (response.status_code, response.text[:300])
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def running(server: ServerInThread) -> bool:
    """Its command still runs: the thread it runs on (named as in_process_server.py names it) has not ended."""
    addr = server.base_url.removeprefix("http://")
    return any(thread.name.endswith(f" {addr}") and thread.is_alive() for thread in threading.enumerate())


def assert_still_serving(server: ServerInThread) -> None:
    assert running(server)
    assert httpx2.get(f"{server.base_url}/healthz", timeout=5).status_code == 200
    assert httpx2.get(f"{server.base_url}/.well-known/oauth-protected-resource/mcp", timeout=5).status_code == 200
    assert "Traceback" not in server.logged()  # nothing crashed, not even inside a tool call


# -- the metadata and the key set ---------------------------------------------------------------------

TENANT = "/tenant"
# The three places the metadata of an issuer with a path is looked for, in order (server/issuer.py): the
# stand-in serves the real document at the last, and each scenario scripts the first two.
FIRST, SECOND, REAL = (
    f"/.well-known/oauth-authorization-server{TENANT}",
    f"/.well-known/openid-configuration{TENANT}",
    f"{TENANT}/.well-known/openid-configuration",
)
KEYS, EVIL_KEYS = f"{TENANT}/keys", f"{TENANT}/evil-keys"  # the real document's jwks_uri; the attacker's


def pointing_at_evil_keys(issuer: "issuers.TestIssuer") -> dict[str, Any]:
    """The real document, but for its keys: believed, it makes the attacker's tokens valid here."""
    return {**issuer.metadata(), "jwks_uri": f"{issuer.origin}{EVIL_KEYS}"}


# Each: the first location's answer, the second's, and the key set's. Every part is refused on its own:
# without the nesting bound, the first answer was a 500; without the size bound, the attacker's keys were
# believed from the second; without the shapes, a key set of the wrong type was a 500, and a document
# whose jwks_uri was not a string was believed, and then verified nothing for an hour.
SCENARIOS = {
    "nested-30000-deep": lambda issuer: (
        DEEP,
        as_json({**pointing_at_evil_keys(issuer), "padding": PADDING}),
        DEEP,
    ),
    "wrong-shapes": lambda issuer: (
        as_json({**pointing_at_evil_keys(issuer), "jwks_uri": {"href": f"{issuer.origin}{EVIL_KEYS}"}}),
        as_json(["not", "an", "object"]),
        as_json(issuer.jwks()["keys"]),  # the keys, as a list rather than a key set
    ),
    "too-large-key-set": lambda issuer: (b"null", b'"a string"', as_json({**issuer.jwks(), "padding": PADDING})),
}


@pytest.fixture(scope="module", params=list(SCENARIOS))
def hostile_issuer(request) -> Iterator[tuple["issuers.TestIssuer", ServerInThread]]:
    """A JWT-verifying MCP server, and its issuer answering one scenario's hostile metadata and keys."""
    with issuers.serve_test_issuer(TENANT, discovery="openid-configuration") as issuer:
        first, second, keys = SCENARIOS[request.param](issuer)
        issuer.script(FIRST, first)
        issuer.script(SECOND, second)
        issuer.script(KEYS, keys)
        evil = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(EVIL_KEY.public_key()))
        issuer.script(EVIL_KEYS, as_json({"keys": [{**evil, "kid": "evil", "use": "sig", "alg": "ES256"}]}))
        with mcp_server_in_thread("--transport", "http", "--issuer", issuer.url) as rs:
            yield issuer, rs


def test_hostile_metadata_and_key_sets_verify_no_token_and_cause_no_500(hostile_issuer) -> None:
    issuer, server = hostile_issuer
    assert_refused(post(server, issuer.mint(server.mcp_url)))
    assert_refused(post(server, issuer.mint(server.mcp_url, key=EVIL_KEY, header={"kid": "evil"})))
    # Each location read once, and only the real document believed: its keys asked for, never the attacker's.
    assert [issuer.fetched[path] for path in (FIRST, SECOND, REAL)] == [1, 1, 1], issuer.fetched
    assert issuer.fetched[KEYS] == 1
    assert issuer.fetched[EVIL_KEYS] == 0
    assert_still_serving(server)


# -- introspection, token exchange and the upstream -----------------------------------------------------


@pytest.fixture(scope="module")
def introspecting(tmp_path_factory) -> Iterator[tuple["issuers.TestIssuer", ServerInThread]]:
    """An MCP server (production's) that introspects every token, and exchanges it to call an upstream: the
    stand-in again."""
    with issuers.serve_test_issuer() as issuer:
        db = tmp_path_factory.mktemp("journal") / "journal.db"
        upstream = ("--upstream-url", f"{issuer.origin}/anything")
        arguments = ("--transport", "http", "--issuer", issuer.url, "--verifier", "introspection", *upstream)
        with mcp_server_in_thread(*arguments, "--db", str(db), program="production.server") as server:
            yield issuer, server


def active(issuer: "issuers.TestIssuer", server: ServerInThread, **members: Any) -> dict[str, Any]:
    """A well-formed introspection answer for a token of `server`'s, with `members` replaced or added."""
    now = int(time.time())
    claims = {"iss": issuer.url, "aud": server.mcp_url, "sub": "alice", "client_id": "c", "scope": "journal:read"}
    return {"active": True, **claims, "iat": now, "exp": now + 300, **members}


def caller(issuer: "issuers.TestIssuer", server: ServerInThread) -> str:
    """A new token that the stand-in says is alice's, active, for `server`."""
    token = secrets.token_urlsafe(32)
    issuer.introspection[token] = as_json(active(issuer, server))
    return token


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda issuer, server: DEEP, id="nested-30000-deep"),
        pytest.param(
            lambda issuer, server: as_json(active(issuer, server, padding=PADDING)), id="active-but-too-large"
        ),
        # RFC 7662 §2.2: exp is an integer. A float passed the expiry check by not being one.
        pytest.param(lambda issuer, server: as_json(active(issuer, server, exp=1.5)), id="expired-as-a-float"),
        pytest.param(lambda issuer, server: as_json(active(issuer, server, active="true")), id="active-a-string"),
        pytest.param(lambda issuer, server: as_json([active(issuer, server)]), id="a-list"),
    ],
)
def test_a_hostile_introspection_answer_is_401_never_500(introspecting, answer) -> None:
    issuer, server = introspecting
    token = secrets.token_urlsafe(32)
    issuer.introspection[token] = answer(issuer, server)
    assert_refused(post(server, token))
    assert post(server, caller(issuer, server)).status_code == 200  # a well-formed answer is still believed
    assert_still_serving(server)


@asynccontextmanager
async def session(server: ServerInThread, token: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(streamable_http_client(server.mcp_url, http_client=http)) as client,
    ):
        yield client


async def make_authenticated_request(server: ServerInThread, token: str) -> CallToolResult:
    async with session(server, token) as client:
        return await client.call_tool("make_authenticated_request", {"message": "hi"})


def text_of(result: CallToolResult) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


EXCHANGED = as_json({"access_token": "exchanged", "token_type": "Bearer", "issued_token_type": "access_token"})
ECHO = as_json({"args": {"message": "hi"}, "headers": {}, "token": {"sub": "alice"}})  # the bundled upstream's shape


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(200, b"[]", id="a-list"),
        pytest.param(200, DEEP, id="nested-30000-deep"),
        pytest.param(200, as_json({"access_token": "exchanged", "padding": PADDING}), id="a-token-but-too-large"),
        pytest.param(400, as_json({"error": f"invalid_grant{ATTACK}"}), id="an-error-code-with-escapes"),
    ],
)
async def test_a_hostile_token_exchange_answer_is_the_tools_error(introspecting, status: int, body: bytes) -> None:
    issuer, server = introspecting
    issuer.script("/token", body, status)
    issuer.script("/anything", ECHO)
    called_before = issuer.fetched["/anything"]
    refused = await make_authenticated_request(server, caller(issuer, server))
    assert refused.is_error
    assert "Cannot call the upstream API for you: the authorization server" in text_of(refused), text_of(refused)
    assert "\x1b" not in text_of(refused)
    assert issuer.fetched["/anything"] == called_before  # no token, no call
    issuer.script("/token", EXCHANGED)
    assert not (await make_authenticated_request(server, caller(issuer, server))).is_error  # and it still works
    assert_still_serving(server)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(DEEP, id="nested-30000-deep"),
        pytest.param(b"[]", id="a-list"),
        pytest.param(as_json({"args": {}, "headers": {}, "token": {}, "padding": PADDING}), id="an-echo-too-large"),
    ],
)
async def test_a_hostile_upstream_answer_is_the_tools_error(introspecting, body: bytes) -> None:
    issuer, server = introspecting
    issuer.script("/token", EXCHANGED)
    issuer.script("/anything", body)
    refused = await make_authenticated_request(server, caller(issuer, server))
    assert refused.is_error
    assert f"Upstream {issuer.origin}/anything answered not " in text_of(refused), text_of(refused)
    issuer.script("/anything", ECHO)
    assert not (await make_authenticated_request(server, caller(issuer, server))).is_error
    assert_still_serving(server)


# -- one fuzz target per parser of the issuer's JSON ----------------------------------------------------


def fuzzed(examples: int) -> Any:
    """hypothesis settings for `examples` inputs, the same ones every run."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# JSON as a hostile server writes it: deeper than any bound, every type where another belongs.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
nested = st.integers(1, 40).map(lambda depth: json.loads("[" * depth + "]" * depth))
hostile_values = st.one_of(json_values, nested, st.sampled_from(["\ud800", "x\udfffy", ATTACK, "", "none", "ES256"]))
raw_json = st.one_of(
    st.integers(1, 40_000).map(lambda depth: b"[" * depth),
    st.integers(1, 60).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.sampled_from([b"NaN", b'{"a": Infinity}', b"1e999", b"\xff", b"", b"null", b"[]", b'"x"', b"{}"]),
    json_values.map(as_json),
)


def documents(base: dict[str, Any], members: list[str]) -> st.SearchStrategy[bytes]:
    """`base` with members replaced or added by hostile values, or bytes that are no such document."""
    changed = st.dictionaries(st.sampled_from(members) | st.text(max_size=8), hostile_values, max_size=3)
    return st.one_of(
        changed.map(lambda extra: as_json({**base, **extra})),
        st.just(as_json(base)),
        raw_json,
    )


@pytest.fixture(scope="module")
def portal() -> Iterator[Any]:
    """One event loop, on a thread, for every in-process example: the verifier's HTTP client stays in it."""
    with anyio.from_thread.start_blocking_portal() as running:
        yield running


def forget(authorization_server: Issuer) -> None:
    """A first contact again: no metadata, no keys (what the Issuer keeps, which this test defeats on purpose)."""
    authorization_server._metadata.forget()
    authorization_server._keys.forget()


METADATA_MEMBERS = [
    "issuer",
    "jwks_uri",
    "token_endpoint",
    "introspection_endpoint",
    "id_token_signing_alg_values_supported",
]
JWK_MEMBERS = ["kid", "kty", "use", "alg", "crv", "x", "y", "n", "e", "k", "d", "key_ops", "x5c"]


def test_fuzzed_metadata_documents_verify_a_token_or_refuse_it(portal) -> None:
    resource = "http://127.0.0.1:8095/mcp"
    with issuers.serve_test_issuer() as issuer:
        authorization_server = Issuer(issuer.url)
        jwt_verifier = JWTVerifier(authorization_server, resource)
        locations = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")

        @fuzzed(200)
        @given(
            first=documents(issuer.metadata(), METADATA_MEMBERS), second=documents(issuer.metadata(), METADATA_MEMBERS)
        )
        def verified_or_refused(first: bytes, second: bytes) -> None:
            issuer.script(locations[0], first)
            issuer.script(locations[1], second)
            forget(authorization_server)
            decision = portal.call(jwt_verifier.verify_token, issuer.mint(resource))  # raises nothing
            assert decision is None or decision.subject == "alice"

        try:
            verified_or_refused()
        finally:
            portal.call(authorization_server.http.aclose)


def test_fuzzed_key_sets_verify_a_token_or_refuse_it(portal) -> None:
    resource = "http://127.0.0.1:8095/mcp"
    with issuers.serve_test_issuer() as issuer:
        authorization_server = Issuer(issuer.url)
        jwt_verifier = JWTVerifier(authorization_server, resource)
        real_key = issuer.jwks()["keys"][0]
        keys = st.one_of(
            st.dictionaries(st.sampled_from(JWK_MEMBERS), hostile_values | st.sampled_from(list(real_key.values()))),
            st.dictionaries(st.sampled_from(JWK_MEMBERS), hostile_values, max_size=2).map(lambda k: {**real_key, **k}),
            hostile_values,
        )
        key_sets = st.one_of(
            st.lists(keys, max_size=3).map(lambda listed: as_json({"keys": listed})),
            documents({"keys": [real_key]}, ["keys"]),
        )

        @fuzzed(200)
        @given(key_set=key_sets)
        def verified_or_refused(key_set: bytes) -> None:
            issuer.script("/keys", key_set)
            forget(authorization_server)
            decision = portal.call(jwt_verifier.verify_token, issuer.mint(resource))  # raises nothing
            assert decision is None or decision.subject == "alice"

        try:
            verified_or_refused()
        finally:
            portal.call(authorization_server.http.aclose)


INTROSPECTION_MEMBERS = ["active", "iss", "aud", "sub", "client_id", "scope", "exp", "iat", "act", "cnf"]


def test_fuzzed_introspection_answers_get_200_or_401_never_a_5xx(introspecting) -> None:
    issuer, server = introspecting

    with httpx2.Client(timeout=30) as http:

        @fuzzed(200)
        @given(answer=documents(active(issuer, server), INTROSPECTION_MEMBERS))
        def answered_below_500(answer: bytes) -> None:
            token = secrets.token_urlsafe(16)
            issuer.introspection[token] = answer
            headers = {**ACCEPT, "Authorization": f"Bearer {token}"}
            response = http.post(server.mcp_url, json=INITIALIZE, headers=headers)
            assert response.status_code in (200, 401), (answer[:300], response.status_code, response.text[:300])

        answered_below_500()
    assert_still_serving(server)


def test_fuzzed_exchange_and_upstream_answers_are_a_result_or_the_tools_own_error(introspecting, portal) -> None:
    issuer, server = introspecting
    token_answers = documents(json.loads(EXCHANGED), ["access_token", "error", "token_type"])
    upstream_answers = documents(json.loads(ECHO), ["args", "headers", "token"])
    own_errors = ("Cannot call the upstream API for you: ", f"Upstream {issuer.origin}/anything ")

    with portal.wrap_async_context_manager(session(server, caller(issuer, server))) as client:

        @fuzzed(60)
        @given(
            token_answer=token_answers,
            token_status=st.sampled_from([200, 200, 400, 500]),
            upstream_answer=upstream_answers,
            upstream_status=st.sampled_from([200, 200, 500]),
        )
        def answered(token_answer: bytes, token_status: int, upstream_answer: bytes, upstream_status: int) -> None:
            issuer.script("/token", token_answer, token_status)
            issuer.script("/anything", upstream_answer, upstream_status)
            result = portal.call(client.call_tool, "make_authenticated_request", {"message": "hi"})
            if result.is_error:  # a crash would say "Error executing tool make_authenticated_request", no more
                reason = text_of(result).removeprefix("Error executing tool make_authenticated_request: ")
                assert reason.startswith(own_errors), (token_answer[:200], upstream_answer[:200], text_of(result))

        answered()
    assert_still_serving(server)
