"""The resource server's verification helpers, as plain functions: bounded caches, HTTP Basic, algorithms;
and production's decisions kept (production/decisions.py)."""

import base64
import secrets
import time
from urllib.parse import unquote

import pytest
from mcp.server.auth.provider import AccessToken

from lesson03.production.decisions import REFUSAL_CACHE_SECONDS, RememberedDecisions, VerifiedTokens, fresh_until
from lesson03.server_extras.algorithms import SAFE_ALGORITHMS, advertised_algorithms
from lesson03.server_extras.client_auth import basic_credentials


def accepted(expires_at: int | None) -> AccessToken:
    return AccessToken(token="t", client_id="c", scopes=[], expires_at=expires_at, subject="alice")


def test_a_flood_of_random_tokens_cannot_grow_the_cache_beyond_its_bound() -> None:
    cache = VerifiedTokens(max_entries=100)
    first = VerifiedTokens.key("the first token")
    cache.put(first, None, time.time() + 60)
    for _ in range(1000):  # an attacker's random bearer tokens, each refused
        cache.put(VerifiedTokens.key(secrets.token_urlsafe(32)), None, time.time() + 60)
    assert len(cache._entries) == 100
    assert cache.get(first) == (False, None)  # the oldest went first


def test_decisions_expire() -> None:
    cache = VerifiedTokens()
    key = VerifiedTokens.key("token")
    cache.put(key, accepted(None), time.time() - 1)
    assert cache.get(key) == (False, None)


def test_an_acceptance_is_reused_until_shortly_before_the_token_expires() -> None:
    now = time.time()
    assert fresh_until(accepted(int(now) + 300), at_most=None) == int(now) + 299  # a JWT
    assert fresh_until(accepted(int(now) + 300), at_most=5) <= now + 5.1  # an introspection answer
    assert fresh_until(None, at_most=None) <= now + REFUSAL_CACHE_SECONDS + 0.1


def test_http_basic_for_oauth_clients_form_urlencodes_each_part() -> None:
    header = basic_credentials("mcp server", "p%41ss:w/rd+ é")
    client_id, _, secret = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    assert (unquote(client_id), unquote(secret)) == ("mcp server", "p%41ss:w/rd+ é")  # RFC 6749 §2.3.1


def test_only_advertised_asymmetric_algorithms_are_accepted() -> None:
    advertised = {"id_token_signing_alg_values_supported": ["RS256", "HS256", "none"]}
    assert advertised_algorithms(advertised) == {"RS256"}
    assert advertised_algorithms({}) == SAFE_ALGORITHMS  # RFC 8414 has no field for them


@pytest.mark.anyio
async def test_production_asks_its_verifier_once_per_token_and_keeps_the_decision() -> None:
    asked: list[str] = []

    class Verifier:
        async def verify_token(self, token: str) -> AccessToken | None:
            asked.append(token)
            return accepted(int(time.time()) + 300) if token == "good" else None

    remembered = RememberedDecisions(Verifier())
    for _ in range(3):
        assert (await remembered.verify_token("good")).subject == "alice"
        assert await remembered.verify_token("made-up") is None
    assert asked == ["good", "made-up"]
    introspected = RememberedDecisions(Verifier(), at_most=0)  # --introspection-cache 0: ask every time
    for _ in range(2):
        await introspected.verify_token("good")
    assert asked[2:] == ["good", "good"]
