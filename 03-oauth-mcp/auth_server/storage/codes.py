"""Authorization codes: issued on consent, redeemed once at /token, and a replay revokes what they gave."""

import time
from dataclasses import asdict, dataclass

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin
from sqlalchemy import Column, ForeignKey, Integer, Table, Text, select, update

from . import Store, digest, now, record_of, tables
from .revocations import Revocations, token_families

authorization_codes = Table(
    "authorization_codes",
    tables,
    Column("code_hash", Text, primary_key=True),  # SHA-256: the database holds no usable code
    Column("family_id", Text, ForeignKey("token_families.family_id"), nullable=False),
    Column("client_id", Text, nullable=False),
    Column("redirect_uri", Text),
    Column("scope", Text, nullable=False),
    Column("username", Text, nullable=False),
    Column("code_challenge", Text, nullable=False),
    Column("code_challenge_method", Text, nullable=False),
    Column("resource", Text, nullable=False),
    Column("expires_at", Integer, nullable=False),
    Column("used_at", Integer),  # set by the one request that redeems it
)


@dataclass(frozen=True)
class AuthorizationCode(AuthorizationCodeMixin):
    client_id: str
    redirect_uri: str | None
    scope: str
    username: str
    code_challenge: str
    code_challenge_method: str
    resource: str  # RFC 8707: the audience the user approved
    family_id: str  # every token issued from this code belongs to this family (revocations.py)
    expires_at: int

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return self.expires_at < time.time()


class AuthorizationCodes(Store):
    def __init__(self, revocations: Revocations) -> None:
        super().__init__(revocations.engine)
        self.revocations = revocations

    def save(self, code: str, record: AuthorizationCode) -> None:
        """Keep a code, and start its token family."""
        family = {"family_id": record.family_id, "client_id": record.client_id, "username": record.username}
        with self.engine.begin() as connection:
            connection.execute(token_families.insert().values(**family, created_at=now()))
            connection.execute(authorization_codes.insert().values(code_hash=digest(code), **asdict(record)))

    def redeem(self, code: str, client_id: str) -> AuthorizationCode | None:
        """Claim a code exactly once. A code presented again revokes every token issued from it.

        RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization
        server MUST deny the request and SHOULD revoke (when possible) all tokens previously
        issued based on that authorization code." The code is claimed before PKCE is checked,
        so a wrong code_verifier burns it too: one attempt per code.
        """
        code_hash = authorization_codes.c.code_hash == digest(code)
        row = self._one(select(authorization_codes).where(code_hash))
        if row is None or row.client_id != client_id:
            return None
        unused = code_hash, authorization_codes.c.used_at.is_(None)
        if not self._run(update(authorization_codes).where(*unused).values(used_at=now())):
            self.revocations.revoke_family(row.family_id)
            return None
        record = record_of(AuthorizationCode, row)
        return None if record.is_expired() else record
