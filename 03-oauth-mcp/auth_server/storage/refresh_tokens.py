"""Refresh tokens: opaque, rotated on every use, and a second use of one revokes its whole family."""

import time
from dataclasses import asdict, dataclass

from authlib.oauth2.rfc6749 import TokenMixin
from sqlalchemy import Column, ForeignKey, Integer, Table, Text, exists, select, update

from ..models import Client
from . import Store, digest, now, record_of, tables
from .revocations import token_families

refresh_tokens = Table(
    "refresh_tokens",
    tables,
    Column("token_hash", Text, primary_key=True),  # SHA-256, as for codes
    Column("family_id", Text, ForeignKey("token_families.family_id"), nullable=False),
    Column("client_id", Text, nullable=False),
    Column("username", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("resource", Text, nullable=False),
    Column("expires_at", Integer, nullable=False),
    Column("rotated_at", Integer),  # set by the one request that uses it: a second use is theft
)


@dataclass(frozen=True)
class RefreshToken(TokenMixin):
    family_id: str
    client_id: str
    username: str
    scope: str
    resource: str
    expires_at: int

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, self.expires_at - int(time.time()))

    def is_expired(self) -> bool:
        return self.expires_at < time.time()

    def is_revoked(self) -> bool:
        return False  # the tokens of a revoked family are never loaded (RefreshTokens.get)


class RefreshTokens(Store):
    def save(self, token: str, record: RefreshToken) -> None:
        self._run(refresh_tokens.insert().values(token_hash=digest(token), **asdict(record)))

    def get(self, token: str) -> tuple[RefreshToken, bool] | None:
        """(record, already_rotated) for a refresh token of a family that is still alive."""
        alive = refresh_tokens.c.token_hash == digest(token), token_families.c.revoked_at.is_(None)
        row = self._one(select(refresh_tokens).join(token_families).where(*alive))
        if row is None:
            return None
        return record_of(RefreshToken, row), row.rotated_at is not None

    def claim(self, token: str) -> bool:
        """Mark a refresh token used, if it was not and its family is alive; False if another request
        used it first (at this replica or another: the UPDATE decides, in the database)."""
        family_alive = exists().where(
            token_families.c.family_id == refresh_tokens.c.family_id, token_families.c.revoked_at.is_(None)
        )
        unused = refresh_tokens.c.token_hash == digest(token), refresh_tokens.c.rotated_at.is_(None), family_alive
        return bool(self._run(update(refresh_tokens).where(*unused).values(rotated_at=now())))
