"""The access-token signing key: generated once, kept in the db, published at /jwks.json.

Resource servers verify access tokens offline with the public half, so the key must outlive a
restart: a new key on every start would invalidate every token in circulation, and the MCP
SDK client reacts to such a 401 by sending the user through the browser again.
"""

import logging
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from .storage import Storage

ALGORITHM = "ES256"  # ECDSA P-256: short signatures, and an asymmetric key so resource servers cannot mint tokens
logger = logging.getLogger(__name__)


class SigningKeys:
    def __init__(self, storage: Storage) -> None:
        stored = storage.get_signing_key()
        if stored is None:
            # The thumbprint (RFC 7638) as kid: stable, and derived from the key itself.
            key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)
            storage.save_signing_key(key.kid, key.as_dict(private=True))
            logger.info("generated a new signing key, kid %s", key.kid)
        else:
            key = ECKey.import_key(stored)
        self.key = key
        self.key_set = KeySet([key])  # joserfc names the key's kid in each token header

    @property
    def kid(self) -> str:
        return self.key.kid

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def verify(self, token: str, issuer: str) -> dict[str, Any] | None:
        """The claims of an access token this server signed and has not let expire, else None.

        Only this server's own checks: revocation is the db's business (storage.py).
        """
        try:
            decoded = jwt.decode(token, self.key_set, algorithms=[ALGORITHM])
        except (JoseError, ValueError):
            return None
        if decoded.header.get("typ") != "at+jwt":  # RFC 9068 §4: never accept an ID token or other JWT
            return None
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            exp={"essential": True},
            jti={"essential": True},
            client_id={"essential": True},
            scope={"essential": True},
        )
        try:
            registry.validate(decoded.claims)
        except JoseError:
            return None
        return decoded.claims
