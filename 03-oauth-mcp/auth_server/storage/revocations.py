"""Revocation: token families, and the access tokens issued (their ids only: each JWT carries the rest).

A family is one consent: the authorization code and every token issued from it, refreshed or
not. Revoking it (a replayed code, a reused refresh token, /revoke of a refresh token) stops its
refresh tokens and makes its access tokens introspect inactive and unexchangeable.
"""

import time
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import TokenMixin
from sqlalchemy import Column, ForeignKey, Integer, Table, Text, select, update

from ..models import Client
from . import Store, now, tables

token_families = Table(
    "token_families",
    tables,
    Column("family_id", Text, primary_key=True),  # started with its authorization code (codes.py)
    Column("client_id", Text, nullable=False),
    Column("username", Text, nullable=False),
    Column("created_at", Integer, nullable=False),
    Column("revoked_at", Integer),
)

access_tokens = Table(
    "access_tokens",
    tables,
    Column("jti", Text, primary_key=True),
    Column("family_id", Text, ForeignKey("token_families.family_id")),  # NULL: no user's consent behind it
    Column("client_id", Text, nullable=False),
    Column("expires_at", Integer, nullable=False),
    Column("revoked_at", Integer),
)


@dataclass(frozen=True)
class AccessToken(TokenMixin):
    """A JWT access token this server signed, plus what the database knows about it (revocation)."""

    claims: dict[str, Any]
    revoked: bool

    @property
    def jti(self) -> str:
        return self.claims["jti"]

    def check_client(self, client: Client) -> bool:
        return self.claims["client_id"] == client.client_id

    def get_scope(self) -> str:
        return self.claims["scope"]

    def get_expires_in(self) -> int:
        return max(0, self.claims["exp"] - int(time.time()))

    def is_expired(self) -> bool:
        return self.claims["exp"] <= time.time()

    def is_revoked(self) -> bool:
        return self.revoked


class Revocations(Store):
    def revoke_family(self, family_id: str) -> None:
        """Kill a consent: its refresh tokens stop working and its access tokens introspect inactive."""
        alive = token_families.c.family_id == family_id, token_families.c.revoked_at.is_(None)
        self._run(update(token_families).where(*alive).values(revoked_at=now()))

    def save_access_token(self, jti: str, family_id: str | None, client_id: str, expires_at: int) -> None:
        values = {"jti": jti, "family_id": family_id, "client_id": client_id, "expires_at": expires_at}
        self._run(access_tokens.insert().values(values))

    def access_token_revoked(self, jti: str) -> bool:
        """True for a revoked jti, a revoked family, or a jti this server never recorded."""
        row = self._one(
            select(access_tokens.c.revoked_at, token_families.c.revoked_at.label("family_revoked_at"))
            .select_from(access_tokens.outerjoin(token_families))
            .where(access_tokens.c.jti == jti)
        )
        return row is None or row.revoked_at is not None or row.family_revoked_at is not None

    def revoke_access_token(self, jti: str) -> None:
        alive = access_tokens.c.jti == jti, access_tokens.c.revoked_at.is_(None)
        self._run(update(access_tokens).where(*alive).values(revoked_at=now()))
