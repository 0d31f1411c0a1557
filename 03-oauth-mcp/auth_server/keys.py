"""The access-token signing keys: kept in the database, published at /jwks.json, rotated without breaking a token.

Resource servers verify access tokens offline with the public half, so a key must outlive a
restart: a new key on every start would invalidate every token in circulation, and the MCP
SDK client reacts to such a 401 by sending the user through the browser again. For the same
reason every replica must sign with the same key: the first key is created under the
database's lock (storage/keys.py), so replicas starting together agree on one.

Nothing about the keys is kept in this process: each replica reads them from the database, and
so publishes and uses the same ones. A key signs from its `created_at` on, once it is the newest
due: optional/rotate_key.py adds the next key with a time ahead, and an old key leaves the JWKS
once its successor has signed for longer than a token lives.
"""

import logging
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from .storage.keys import KeyStore

ALGORITHM = "ES256"  # ECDSA P-256: short signatures, and an asymmetric key so resource servers cannot mint tokens
CLOCK_LEEWAY = 60  # resource servers accept a token a little past its expiry (theirs: 30 s)
logger = logging.getLogger(__name__)


def new_key() -> tuple[str, dict[str, Any]]:
    """A fresh key pair: (kid, private JWK). The thumbprint (RFC 7638) as kid: stable, and derived from the key."""
    key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)
    logger.info("generated a new signing key, kid %s", key.kid)
    return key.kid, key.as_dict(private=True)


class SigningKeys:
    def __init__(self, store: KeyStore, access_token_ttl: int) -> None:
        self.store = store
        # An old key leaves the JWKS once its successor has signed for longer than a token lives.
        self.retire_after = access_token_ttl + CLOCK_LEEWAY
        store.add_first(new_key)
        self._imported: dict[str, ECKey] = {}  # parsed keys by kid (a kid names one key forever)

    def _keys(self) -> list[tuple[ECKey, int]]:
        """(key, signs_from) of every key this server may still sign with or publish, oldest first."""
        stored = [(self._import(jwk), signs_from) for jwk, signs_from in self.store.all()]
        current = time.time()
        return [
            (key, signs_from)
            for (key, signs_from), successor in zip(stored, [*stored[1:], None], strict=True)
            if successor is None or successor[1] > current - self.retire_after
        ]

    def _import(self, jwk: dict[str, Any]) -> ECKey:
        if jwk["kid"] not in self._imported:
            self._imported[jwk["kid"]] = ECKey.import_key(jwk)
        return self._imported[jwk["kid"]]

    def signing_key_set(self) -> KeySet:
        """The newest key whose time to sign has come (the oldest, if a replica's clock lags behind them all)."""
        keys, current = self._keys(), time.time()
        due = [key for key, signs_from in keys if signs_from <= current]
        return KeySet([due[-1] if due else keys[0][0]])  # joserfc names the key's kid in each token header

    def public_jwks(self) -> dict[str, Any]:
        """What /jwks.json publishes: the signing key, the next one, and old ones whose tokens may still be alive."""
        return {"keys": [key.as_dict(private=False) for key, _ in self._keys()]}

    def verify(self, token: str, issuer: str) -> dict[str, Any] | None:
        """The claims of an access token this server signed and has not let expire, else None.

        Only this server's own checks: revocation is the database's business (storage/revocations.py).
        """
        try:
            decoded = jwt.decode(token, KeySet([key for key, _ in self._keys()]), algorithms=[ALGORITHM])
        except (JoseError, ValueError, TypeError, KeyError):  # joserfc raises the last two on odd headers
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
