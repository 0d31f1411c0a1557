"""Optional: signed assertions accepted once: the `jti` of each, kept until it expires, in the database.

A client assertion (`private_key_jwt`, private_key_jwt.py) or an ID-JAG (enterprise.py) is a bearer
credential for its few minutes of life: whoever copies one from a log or a proxy could present it
again. RFC 7523 lets a server keep the `jti` of each to refuse a second use; the MCP enterprise
extension requires it ("rejecting re-use of the same `jti` for the lifetime of the assertion").
Authlib checks that a `jti` is there and leaves the remembering to the application: this is it.

Kept in the database, not in this process: a replay sent to another replica must meet the same
row. The first use inserts it; a second finds it there (a conflict), whichever replica it reaches,
and however close together the two arrive. Each row is a digest of who issued the assertion and its
`jti` (two issuers may both pick "1"), and lives until the assertion expires, plus the leeway its
checks allow: after that, the assertion is refused as expired anyway.
"""

from sqlalchemy import Column, Integer, Table, Text

from ... import database
from ..storage import Store, digest, now, tables

used_assertions = Table(
    "used_assertions",
    tables,
    Column("key_hash", Text, primary_key=True),  # SHA-256 of (kind, issuer, jti): a bounded key
    Column("expires_at", Integer, nullable=False),
)


class UsedAssertions(Store):
    def first_use(self, kind: str, issuer: str, jti: str, expires_at: int) -> bool:
        """Record this assertion as used; False if it was used before (a replay).

        Call it only once the assertion has verified: its signature, audience and expiry. Only then
        is it worth a row, and nobody who cannot sign can fill the table.
        """
        key = digest(f"{kind}\n{issuer}\n{jti}")
        with self.engine.begin() as connection:
            self._delete_expired(connection, used_assertions, now())
            insert = database.insert(connection, used_assertions).values(key_hash=key, expires_at=expires_at)
            return connection.execute(insert.on_conflict_do_nothing(index_elements=["key_hash"])).rowcount == 1
