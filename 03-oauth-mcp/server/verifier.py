"""Token verification: is this bearer token one the authorization server issued *for this server*?

Both verifiers implement the SDK's `TokenVerifier` protocol,
`verify_token(token) -> AccessToken | None`, so either can sit behind the gate, and
both learn where to ask from the authorization server's metadata (discovery.py).

- `JWTVerifier` (default): checks the signature against the authorization
  server's published keys (its `jwks_uri`), then the claims, locally. No network
  call per request; a revoked token stays valid until it expires, so tokens live minutes.
- `IntrospectionVerifier`: asks the authorization server (its
  `introspection_endpoint`, RFC 7662) about every token it has not seen in the
  last few seconds. Revocation takes effect at once, at the cost of a round trip;
  it also works for opaque tokens, and for JWTs whose keys are not published.

The key set and the introspection answers are the issuer's JSON, read within bounds and in the
shapes below (answers.py): one the verifier cannot read verifies no token, and never crashes it.
"""

import base64
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import httpx2
import jwt
from mcp.server.auth.provider import AccessToken
from pydantic import BaseModel, ConfigDict, ValidationError

from .answers import UnreadableAnswer, read_answer
from .discovery import IssuerMetadata, MetadataUnavailable

logger = logging.getLogger(__name__)

# Asymmetric algorithms only: never "none", never HMAC (whose "public" key would be the
# signing secret, shared with every resource server). Of these, only what the authorization
# server advertises is accepted, and a key that names its algorithm is used with that one only.
SAFE_ALGORITHMS = frozenset({"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"})
ACCESS_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}  # RFC 9068 §4: not an ID token, not a refresh token
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti", "client_id"]  # RFC 9068 §2.2; `sub` may be the client
CLOCK_LEEWAY_SECONDS = 30
JWKS_MAX_AGE_SECONDS = 300
JWKS_MIN_REFETCH_SECONDS = 30  # an unknown kid cannot make us hammer the authorization server
INTROSPECTION_CACHE_SECONDS = 5.0  # how late a revocation may take effect (--introspection-cache)
REFUSAL_CACHE_SECONDS = 5  # a refused token asked again within this gets the same answer, at no cost
CACHE_ENTRIES = 4096  # random tokens from an attacker evict each other, not our memory


class KeySet(BaseModel):
    """A JWK Set (RFC 7517 §5): its keys, each checked on its own (`signing_keys`)."""

    model_config = ConfigDict(strict=True)
    keys: list[Any]


class SigningKeyShape(BaseModel):
    """What PyJWK reads of a key (RFC 7517 §4, RFC 7518 §6): strings, each, where present."""

    model_config = ConfigDict(extra="allow", strict=True)
    kid: str
    kty: str
    use: str = "sig"
    alg: str | None = None
    crv: str | None = None
    x: str | None = None
    y: str | None = None
    n: str | None = None
    e: str | None = None


def signing_keys(keyset: KeySet) -> dict[str, jwt.PyJWK]:
    """The keys of a key set that can check a signature, by kid. The others are skipped, as RFC 7517 §5
    says: keys without a kid, encryption keys, keys of the wrong shape, keys PyJWK cannot read."""
    keys: dict[str, jwt.PyJWK] = {}
    for member in keyset.keys:
        try:
            key = SigningKeyShape.model_validate(member)
            if key.use == "sig":
                keys[key.kid] = jwt.PyJWK(member)  # with the key's own "alg", if it names one
        # PyJWK raises more than its own errors on a key of the right types but the wrong content:
        # KeyError for a missing member, NotImplementedError for "alg": "none".
        except (ValidationError, jwt.PyJWTError, KeyError, NotImplementedError) as error:
            logger.info("skipped a key of the issuer's: %s", type(error).__name__)
    return keys


class IntrospectionAnswer(BaseModel):
    """The members of an introspection answer (RFC 7662 §2.2) this server reads, of their types.
    `exp` is an integer: a float would have passed the expiry check by not being one."""

    model_config = ConfigDict(extra="allow", strict=True)
    active: bool
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = None
    aud: str | list[str] | None = None
    iss: str | None = None
    exp: int | None = None


def access_token(token: str, claims: dict[str, Any], resource: str) -> AccessToken | None:
    """The SDK's view of a verified token, or None if its claims cannot name a caller.

    `sub` is optional for a token a client obtained for itself (client credentials, RFC 7662
    §2.2 and some JWT issuers): such a token acts as its client.
    """
    client_id, subject, scope, expires = (claims.get(name) for name in ("client_id", "sub", "scope", "exp"))
    subject = subject if subject is not None else client_id
    if not isinstance(subject, str) or not isinstance(client_id, str | None) or not isinstance(scope, str | None):
        logger.info("token refused: no subject, or client_id or scope of the wrong type")
        return None
    return AccessToken(
        token=token,
        client_id=client_id or "",
        scopes=(scope or "").split(),
        expires_at=expires if isinstance(expires, int) else None,
        resource=resource,  # set only after the audience was checked
        subject=subject,
        claims=claims,
    )


class VerifiedTokens:
    """What was decided about a token, kept by its SHA-256 (never the token itself) until `fresh_until`.

    Bounded in size: the entry used least recently goes first, so a flood of random tokens
    costs a few megabytes at most. A JWT's signature is checked once, not on every request
    (nothing about it can change before it expires); an introspection answer is kept a few
    seconds, which is how late a revocation may take effect.
    """

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

    async def decide(
        self, token: str, verify: Callable[[str], Awaitable[AccessToken | None]], at_most: float | None
    ) -> AccessToken | None:
        """The decision kept for this token if it is still fresh; otherwise `verify`'s, kept for next time."""
        key = self.key(token)
        found, decision = self.get(key)
        if not found:
            decision = await verify(token)
            self.put(key, decision, fresh_until(decision, at_most))
        return decision


def fresh_until(decision: AccessToken | None, at_most: float | None) -> float:
    """Until when a decision may be reused: a refusal briefly, an acceptance until shortly before it expires."""
    now = time.time()
    if decision is None:
        return now + REFUSAL_CACHE_SECONDS
    expires = decision.expires_at if decision.expires_at is not None else now + (at_most or 0)
    return min(expires - 1, now + at_most) if at_most is not None else expires - 1


def advertised_algorithms(metadata: dict[str, Any]) -> frozenset[str]:
    """The safe algorithms among those the metadata lists (`*_signing_alg_values_supported`); all safe ones
    if it lists none (RFC 8414 has no field for access tokens)."""
    listed = {
        alg
        for name, values in metadata.items()
        if name.endswith("signing_alg_values_supported") and isinstance(values, list)
        for alg in values
        if isinstance(alg, str)
    }
    return SAFE_ALGORITHMS & listed if listed else SAFE_ALGORITHMS


class JWTVerifier:
    def __init__(self, metadata: IssuerMetadata, resource: str) -> None:
        self.metadata = metadata
        self.issuer = metadata.issuer
        self.resource = resource
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._decided = VerifiedTokens()

    async def verify_token(self, token: str) -> AccessToken | None:
        return await self._decided.decide(token, self._verify, at_most=None)

    async def _verify(self, token: str) -> AccessToken | None:
        try:
            header = jwt.get_unverified_header(token)
            # The header is the attacker's JSON: any type may sit where a string belongs.
            typ, alg, kid = header.get("typ"), header.get("alg"), header.get("kid")
            if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
                raise jwt.InvalidTokenError(f"typ {typ!r} is not an access token")
            allowed = advertised_algorithms(await self.metadata.get())
            if not isinstance(alg, str) or alg not in allowed:
                raise jwt.InvalidAlgorithmError(f"alg {alg!r} is not allowed")
            if not isinstance(kid, str):
                raise jwt.InvalidKeyError("no kid")
            key = await self._key(kid)
            if key.algorithm_name != alg:
                raise jwt.InvalidAlgorithmError(f"key {kid!r} is for {key.algorithm_name}, not {alg!r}")
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.resource,
                issuer=self.issuer,
                leeway=CLOCK_LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except (jwt.PyJWTError, httpx2.HTTPError, MetadataUnavailable, UnreadableAnswer, ValueError) as error:
            # The reason goes to the log, not to the caller: it would help an attacker.
            logger.info("token refused: %s", error)
            return None
        return access_token(token, claims, self.resource)

    async def _key(self, kid: str) -> jwt.PyJWK:
        stale = time.monotonic() - self._fetched_at > JWKS_MAX_AGE_SECONDS
        unknown = kid not in self._keys
        if stale or (unknown and time.monotonic() - self._fetched_at > JWKS_MIN_REFETCH_SECONDS):
            await self._fetch_keys()
        if kid not in self._keys:
            raise jwt.InvalidKeyError(f"no key {kid!r} in the issuer's JWKS")
        return self._keys[kid]

    async def _fetch_keys(self) -> None:
        self._fetched_at = time.monotonic()  # a failing fetch waits its turn too
        jwks_uri = await self.metadata.endpoint("jwks_uri")
        async with self.metadata.http.stream("GET", jwks_uri, headers={"Accept": "application/json"}) as response:
            response.raise_for_status()
            keys = signing_keys(await read_answer(response, KeySet))
        self._keys = keys
        logger.info("fetched %d signing key(s) from %s", len(keys), jwks_uri)


def basic_credentials(client_id: str, client_secret: str) -> str:
    """HTTP Basic for OAuth clients: each part form-urlencoded first (RFC 6749 §2.3.1), so a secret may
    hold `:`, `%` or `+`. (httpx2.BasicAuth encodes the raw strings, which is right for other uses of Basic.)"""
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


class IntrospectionVerifier:
    def __init__(
        self,
        metadata: IssuerMetadata,
        resource: str,
        client_id: str,
        client_secret: str,
        cache_seconds: float = INTROSPECTION_CACHE_SECONDS,
    ) -> None:
        self.metadata = metadata
        self.issuer = metadata.issuer
        self.resource = resource
        self._authorization = basic_credentials(client_id, client_secret)  # RFC 7662 §2.1: the caller authenticates
        self._decided = VerifiedTokens()
        self._cache_seconds = cache_seconds

    async def verify_token(self, token: str) -> AccessToken | None:
        return await self._decided.decide(token, self._introspect, at_most=self._cache_seconds)

    async def _introspect(self, token: str) -> AccessToken | None:
        try:
            endpoint = await self.metadata.endpoint("introspection_endpoint")
            headers = {"Authorization": self._authorization, "Accept": "application/json"}
            async with self.metadata.http.stream("POST", endpoint, data={"token": token}, headers=headers) as response:
                response.raise_for_status()
                answer = await read_answer(response, IntrospectionAnswer)
        except (httpx2.HTTPError, MetadataUnavailable, UnreadableAnswer) as error:
            logger.warning("introspection failed: %s", error)
            return None
        claims = answer.model_dump(exclude_unset=True)  # as sent, every member read now of its type
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        if claims.get("active") is not True:
            logger.info("token refused: inactive")
            return None
        # RFC 7662 makes `iss` optional (the answer comes from the issuer's own endpoint); if
        # present it must be ours. The audience is not optional here: it is what RFC 8707 binds.
        if claims.get("iss", self.issuer) != self.issuer or self.resource not in audiences:
            logger.info("token refused: issued by %r for %r", claims.get("iss"), claims.get("aud"))
            return None
        if isinstance(claims.get("exp"), int) and claims["exp"] + CLOCK_LEEWAY_SECONDS < time.time():
            return None
        return access_token(token, claims, self.resource)
