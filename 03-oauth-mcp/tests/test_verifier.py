"""The resource server's verification helpers, as plain functions: bounded caches, HTTP Basic, algorithms."""

import base64
import secrets
import time
from importlib import import_module
from urllib.parse import unquote

from mcp.server.auth.provider import AccessToken

verifier = import_module("03-oauth-mcp.server.verifier")


def accepted(expires_at: int | None) -> AccessToken:
    return AccessToken(token="t", client_id="c", scopes=[], expires_at=expires_at, subject="alice")


def test_a_flood_of_random_tokens_cannot_grow_the_cache_beyond_its_bound() -> None:
    cache = verifier.VerifiedTokens(max_entries=100)
    first = verifier.VerifiedTokens.key("the first token")
    cache.put(first, None, time.time() + 60)
    for _ in range(1000):  # an attacker's random bearer tokens, each refused
        cache.put(verifier.VerifiedTokens.key(secrets.token_urlsafe(32)), None, time.time() + 60)
    assert len(cache._entries) == 100
    assert cache.get(first) == (False, None)  # the oldest went first


def test_decisions_expire() -> None:
    cache = verifier.VerifiedTokens()
    key = verifier.VerifiedTokens.key("token")
    cache.put(key, accepted(None), time.time() - 1)
    assert cache.get(key) == (False, None)


def test_an_acceptance_is_reused_until_shortly_before_the_token_expires() -> None:
    now = time.time()
    assert verifier.fresh_until(accepted(int(now) + 300), at_most=None) == int(now) + 299  # a JWT
    assert verifier.fresh_until(accepted(int(now) + 300), at_most=5) <= now + 5.1  # an introspection answer
    assert verifier.fresh_until(None, at_most=None) <= now + verifier.REFUSAL_CACHE_SECONDS + 0.1


def test_http_basic_for_oauth_clients_form_urlencodes_each_part() -> None:
    header = verifier.basic_credentials("mcp server", "p%41ss:w/rd+ é")
    client_id, _, secret = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    assert (unquote(client_id), unquote(secret)) == ("mcp server", "p%41ss:w/rd+ é")  # RFC 6749 §2.3.1


def test_only_advertised_asymmetric_algorithms_are_accepted() -> None:
    advertised = {"id_token_signing_alg_values_supported": ["RS256", "HS256", "none"]}
    assert verifier.advertised_algorithms(advertised) == {"RS256"}
    assert verifier.advertised_algorithms({}) == verifier.SAFE_ALGORITHMS  # RFC 8414 has no field for them
