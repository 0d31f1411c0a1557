"""Token verification: is this bearer token one the authorization server issued *for this server*?

`JWTVerifier`, the SDK's `TokenVerifier` that the gate asks about each token, checks an RFC 9068 JWT
without asking anyone: its header, its signature with the issuer's keys (issuer.py), its claims.
"""

import logging

import jwt
from mcp.server.auth.provider import AccessToken

from ..server_extras.algorithms import advertised_algorithms
from .issuer import Issuer, IssuerUnavailable

ACCESS_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}  # RFC 9068 §4: not an ID token, not a refresh token
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti", "client_id"]  # RFC 9068 §2.2; `sub` may be the client
CLOCK_LEEWAY_SECONDS = 30

logger = logging.getLogger(__name__)


class JWTVerifier:
    def __init__(self, issuer: Issuer, resource: str) -> None:
        self.issuer = issuer
        self.resource = resource  # the audience our tokens must carry (RFC 8707)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            header = jwt.get_unverified_header(token)
            # The header is the attacker's JSON: any type may sit where a string belongs.
            typ, alg, kid = header.get("typ"), header.get("alg"), header.get("kid")
            if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
                raise jwt.InvalidTokenError(f"typ {typ!r} is not an access token")
            # Asymmetric only, and advertised by the issuer; a key only with its own algorithm.
            if not isinstance(alg, str) or alg not in advertised_algorithms(await self.issuer.metadata()):
                raise jwt.InvalidAlgorithmError(f"alg {alg!r} is not allowed")
            key = await self.issuer.signing_key(kid) if isinstance(kid, str) else None
            if key is None or key.algorithm_name != alg:
                raise jwt.InvalidKeyError(f"the issuer has no key {kid!r} for {alg}")
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.resource,
                issuer=self.issuer.url,
                leeway=CLOCK_LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
            client_id, scope = claims["client_id"], claims.get("scope", "")
            subject = claims.get("sub", client_id)  # none in a token a client got for itself: it acts as that client
            if not all(isinstance(value, str) for value in (client_id, subject, scope)):
                raise jwt.InvalidTokenError("client_id, sub or scope is not a string")
        except (jwt.PyJWTError, IssuerUnavailable, ValueError) as error:
            # The reason goes to the log, not to the caller: it would help an attacker.
            logger.info("token refused: %s", error)
            return None
        return AccessToken(
            token=token,
            client_id=client_id,
            scopes=scope.split(),
            expires_at=int(claims["exp"]),
            resource=self.resource,  # its audience, checked above
            subject=subject,
            claims=claims,
        )
