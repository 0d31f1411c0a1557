"""The signing keys (../keys.py): private JWKs, each with the time from which it signs."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, Column, Integer, Table, Text, func, select

from ... import database
from . import Store, now, tables

signing_keys = Table(
    "signing_keys",
    tables,
    Column("kid", Text, primary_key=True),
    Column("private_jwk", JSON, nullable=False),
    Column("created_at", Integer, nullable=False),  # it signs from then on, once it is the newest
)


class KeyStore(Store):
    def all(self) -> list[tuple[dict[str, Any], int]]:
        """Every stored key, (private JWK, from when it signs), oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(signing_keys).order_by(signing_keys.c.created_at, signing_keys.c.kid))
            return [(row.private_jwk, row.created_at) for row in rows]

    def add_first(self, new_key: Callable[[], tuple[str, dict[str, Any]]]) -> None:
        """Store `new_key()` (kid, private JWK) if there is no key yet. Under the database's lock, so
        replicas starting together on an empty database agree on one key instead of each making its own."""
        with database.locked(self.engine) as connection:
            if connection.execute(select(func.count()).select_from(signing_keys)).scalar_one() == 0:
                kid, private_jwk = new_key()
                connection.execute(signing_keys.insert().values(kid=kid, private_jwk=private_jwk, created_at=now()))

    def add(self, kid: str, private_jwk: dict[str, Any], signs_from: int) -> None:
        self._run(signing_keys.insert().values(kid=kid, private_jwk=private_jwk, created_at=signs_from))
