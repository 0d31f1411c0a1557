"""Token verification: is this bearer token one the authorization server issued *for this server*?

Both verifiers implement the SDK's `TokenVerifier` protocol,
`verify_token(token) -> AccessToken | None`, so either can sit behind the gate.

- `JWTVerifier` (default): checks the signature against the authorization
  server's published keys (JWKS), then the claims, locally. No network call per
  request; a revoked token stays valid until it expires, so tokens live minutes.
- `IntrospectionVerifier`: asks the authorization server about every token it
  has not seen in the last few seconds (RFC 7662). Revocation takes effect at
  once, at the cost of a round trip.
"""

import hashlib
import logging
import time
from collections import OrderedDict
from typing import Any

import httpx2
import jwt
from mcp.server.auth.provider import AccessToken

logger = logging.getLogger(__name__)

# Asymmetric algorithms only: never "none", never HMAC (whose "public" key
# would be the signing secret). The authorization server signs with ES256.
ALLOWED_ALGORITHMS = ["ES256", "RS256"]
ACCESS_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}  # RFC 9068 §4: not an ID token, not a refresh token
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]
CLOCK_LEEWAY_SECONDS = 30
JWKS_MAX_AGE_SECONDS = 300
JWKS_MIN_REFETCH_SECONDS = 30  # an unknown kid cannot make us hammer the authorization server
INTROSPECTION_CACHE_SECONDS = 5  # how late a revocation may take effect
INTROSPECTION_CACHE_ENTRIES = 4096  # random tokens from an attacker evict each other, not our memory


def access_token(token: str, claims: dict[str, Any], resource: str) -> AccessToken | None:
    """The SDK's view of a verified token, or None if its claims are not the types they must be."""
    client_id, subject, scope, expires = (claims.get(name) for name in ("client_id", "sub", "scope", "exp"))
    if not isinstance(client_id, str) or not isinstance(subject, str) or not isinstance(scope, str | None):
        logger.info("token refused: client_id, sub or scope of the wrong type")
        return None
    return AccessToken(
        token=token,
        client_id=client_id,
        scopes=(scope or "").split(),
        expires_at=expires if isinstance(expires, int) else None,
        resource=resource,  # set only after the audience was checked
        subject=subject,
        claims=claims,
    )


class JWTVerifier:
    def __init__(self, issuer: str, resource: str, jwks_url: str) -> None:
        self.issuer = issuer
        self.resource = resource
        self.jwks_url = jwks_url
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            header = jwt.get_unverified_header(token)
            # The header is the attacker's JSON: any type may sit where a string belongs.
            typ, alg, kid = header.get("typ"), header.get("alg"), header.get("kid")
            if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
                raise jwt.InvalidTokenError(f"typ {typ!r} is not an access token")
            if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
                raise jwt.InvalidAlgorithmError(f"alg {alg!r} is not allowed")
            if not isinstance(kid, str):
                raise jwt.InvalidKeyError("no kid")
            key = await self._key(kid)
            claims = jwt.decode(
                token,
                key,
                algorithms=ALLOWED_ALGORITHMS,
                audience=self.resource,
                issuer=self.issuer,
                leeway=CLOCK_LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except (jwt.PyJWTError, httpx2.HTTPError, ValueError) as error:
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
            raise jwt.InvalidKeyError(f"no key {kid!r} in {self.jwks_url}")
        return self._keys[kid]

    async def _fetch_keys(self) -> None:
        async with httpx2.AsyncClient(timeout=5) as http:
            response = await http.get(self.jwks_url)
            response.raise_for_status()
        self._keys = {jwk["kid"]: jwt.PyJWK(jwk) for jwk in response.json()["keys"] if "kid" in jwk}
        self._fetched_at = time.monotonic()
        logger.info("fetched %d signing key(s) from %s", len(self._keys), self.jwks_url)


class IntrospectionVerifier:
    def __init__(self, issuer: str, resource: str, introspection_url: str, client_id: str, client_secret: str) -> None:
        self.issuer = issuer
        self.resource = resource
        self.introspection_url = introspection_url
        self._auth = httpx2.BasicAuth(client_id, client_secret)  # RFC 7662 §2.1: the caller authenticates
        # token hash -> (when asked, answer), oldest first: bounded in age and in size.
        self._cache: OrderedDict[str, tuple[float, AccessToken | None]] = OrderedDict()

    async def verify_token(self, token: str) -> AccessToken | None:
        # Keyed by a hash: the cache holds no usable tokens.
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._cache.get(key)
        if cached and time.monotonic() - cached[0] < INTROSPECTION_CACHE_SECONDS:
            return cached[1]
        result = await self._introspect(token)
        self._remember(key, result)
        return result

    def _remember(self, key: str, result: AccessToken | None) -> None:
        now = time.monotonic()
        self._cache.pop(key, None)
        self._cache[key] = (now, result)
        # Entries are in the order they were asked: drop the stale ones, then the oldest beyond the bound.
        while self._cache:
            oldest_key, (asked_at, _) = next(iter(self._cache.items()))
            if now - asked_at < INTROSPECTION_CACHE_SECONDS and len(self._cache) <= INTROSPECTION_CACHE_ENTRIES:
                break
            del self._cache[oldest_key]

    async def _introspect(self, token: str) -> AccessToken | None:
        try:
            async with httpx2.AsyncClient(timeout=5, auth=self._auth) as http:
                response = await http.post(self.introspection_url, data={"token": token})
            response.raise_for_status()
            claims = response.json()
        except (httpx2.HTTPError, ValueError) as error:
            logger.warning("introspection failed: %s", error)
            return None
        if not isinstance(claims, dict):
            logger.warning("introspection failed: the answer is not a JSON object")
            return None
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        if not claims.get("active"):
            logger.info("token refused: inactive")
            return None
        if claims.get("iss") != self.issuer or self.resource not in audiences:
            logger.info("token refused: issued by %r for %r", claims.get("iss"), claims.get("aud"))
            return None
        if isinstance(claims.get("exp"), int) and claims["exp"] + CLOCK_LEEWAY_SECONDS < time.time():
            return None
        return access_token(token, claims, self.resource)
