"""What a verifier decided about a token, kept a while: when a deployment should not decide again on every request.

The lesson's `JWTVerifier` checks a token's signature on every request (about 4% of a call's CPU in
the benchmark); an introspecting verifier asks the authorization server, a round trip each. Neither
answer can change before the token expires (a JWT), or within a few seconds that a deployment
accepts (an introspection answer: how late a revocation may count). `RememberedDecisions` wraps any
verifier and keeps its decisions by the token's SHA-256, never the token itself:

- an acceptance until shortly before the token expires, and never longer than `at_most` seconds
  if given (`--introspection-cache` for introspection);
- a refusal for REFUSAL_CACHE_SECONDS, so a token refused is refused again at no cost.

Bounded in size (`VerifiedTokens`): the entry used least recently goes first, so a flood of random
tokens evicts its own entries and costs a few megabytes at most.
"""

import hashlib
import time
from collections import OrderedDict

from mcp.server.auth.provider import AccessToken, TokenVerifier

INTROSPECTION_CACHE_SECONDS = 5.0  # how late a revocation may take effect (--introspection-cache)
REFUSAL_CACHE_SECONDS = 5  # a refused token asked again within this gets the same answer, at no cost
CACHE_ENTRIES = 4096  # random tokens from an attacker evict each other, not our memory


class RememberedDecisions:
    """A `TokenVerifier` in front of another: its decisions, kept as the module docstring says."""

    def __init__(self, verifier: TokenVerifier, at_most: float | None = None) -> None:
        self.verifier = verifier
        self.at_most = at_most  # None: an acceptance is kept until shortly before the token expires
        self.decided = VerifiedTokens()

    async def verify_token(self, token: str) -> AccessToken | None:
        key = VerifiedTokens.key(token)
        found, decision = self.decided.get(key)
        if not found:
            decision = await self.verifier.verify_token(token)
            self.decided.put(key, decision, fresh_until(decision, self.at_most))
        return decision


class VerifiedTokens:
    """Decisions by the token's SHA-256, each until its `fresh_until`; at most `max_entries`, the least used out."""

    def __init__(self, max_entries: int = CACHE_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[float, AccessToken | None]] = OrderedDict()

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, key: bytes) -> tuple[bool, AccessToken | None]:
        """(found, decision): found is False for a token not decided on, or decided on too long ago."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.time():
            return False, None
        self._entries.move_to_end(key)
        return True, entry[1]

    def put(self, key: bytes, decision: AccessToken | None, fresh_until: float) -> None:
        self._entries[key] = (fresh_until, decision)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


def fresh_until(decision: AccessToken | None, at_most: float | None) -> float:
    """Until when a decision may be reused: a refusal briefly, an acceptance until shortly before it expires."""
    now = time.time()
    if decision is None:
        return now + REFUSAL_CACHE_SECONDS
    expires = decision.expires_at if decision.expires_at is not None else now + (at_most or 0)
    return min(expires - 1, now + at_most) if at_most is not None else expires - 1
