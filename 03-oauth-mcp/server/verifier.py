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


def access_token(token: str, claims: dict[str, Any], resource: str) -> AccessToken:
    return AccessToken(
        token=token,
        client_id=claims["client_id"],
        scopes=str(claims.get("scope", "")).split(),
        expires_at=claims.get("exp"),
        resource=resource,  # set only after the audience was checked
        subject=claims.get("sub"),
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
            if header.get("typ", "").lower() not in ACCESS_TOKEN_TYPES:
                raise jwt.InvalidTokenError(f"typ {header.get('typ')!r} is not an access token")
            if header.get("alg") not in ALLOWED_ALGORITHMS:
                raise jwt.InvalidAlgorithmError(f"alg {header.get('alg')!r} is not allowed")
            key = await self._key(header.get("kid"))
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

    async def _key(self, kid: str | None) -> jwt.PyJWK:
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
        self._cache: dict[str, tuple[float, AccessToken | None]] = {}

    async def verify_token(self, token: str) -> AccessToken | None:
        # Keyed by a hash: the cache holds no usable tokens.
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._cache.get(key)
        if cached and time.monotonic() - cached[0] < INTROSPECTION_CACHE_SECONDS:
            return cached[1]
        result = await self._introspect(token)
        self._cache[key] = (time.monotonic(), result)
        return result

    async def _introspect(self, token: str) -> AccessToken | None:
        try:
            async with httpx2.AsyncClient(timeout=5, auth=self._auth) as http:
                response = await http.post(self.introspection_url, data={"token": token})
            response.raise_for_status()
            claims = response.json()
        except (httpx2.HTTPError, ValueError) as error:
            logger.warning("introspection failed: %s", error)
            return None
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        if not claims.get("active"):
            logger.info("token refused: inactive")
            return None
        if claims.get("iss") != self.issuer or self.resource not in audiences:
            logger.info("token refused: issued by %r for %r", claims.get("iss"), claims.get("aud"))
            return None
        if claims.get("exp") and claims["exp"] + CLOCK_LEEWAY_SECONDS < time.time():
            return None
        return access_token(token, claims, self.resource)
