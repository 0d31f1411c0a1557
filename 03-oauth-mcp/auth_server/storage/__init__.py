"""Everything the server remembers, one module per concern: a SQLite file, or PostgreSQL that replicas share.

clients.py, users.py, keys.py, pending.py (authorizations waiting for consent), codes.py,
refresh_tokens.py and revocations.py hold the core's tables and queries; optional/throttle.py and
optional/github.py add theirs (the attempts counted, the GitHub sign-ins under way). All go through
SQLAlchemy Core, so the queries are the same for both databases (../../database.py sets up each).

Codes, refresh tokens and cookie values are stored as SHA-256 digests, passwords and client
secrets as scrypt hashes (../passwords.py): a copy of the database hands out no working
credential. The signing keys are stored as they are: keep the database private (a SQLite file is
created 0600).

Calls come from worker threads (the routes run Authlib off the event loop); each takes a
connection from SQLAlchemy's pool and runs in a transaction of its own. Every replica shares
these rows, so each change that must not race (redeeming a code, rotating a refresh token) is a
conditional UPDATE whose row count says who won: two requests, at one replica or at two, never
both succeed.
"""

import dataclasses
import hashlib
import os
import time
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, MetaData, Table, delete, select

from ... import database

T = TypeVar("T")
tables = MetaData()  # every store's tables; open_database creates those not there yet


def open_database(db: str | os.PathLike[str]) -> Engine:
    """`db`: a SQLite file path, or a postgresql+psycopg:// URL. Creates the tables of every store imported so far."""
    engine = database.open_database(os.fspath(db))
    database.create_schema(engine, tables)
    return engine


def digest(secret: str) -> str:
    """Codes, refresh tokens and cookie values are 256-bit random strings: a fast hash is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


def now() -> int:
    return int(time.time())


def record_of(record_type: type[T], row: Any) -> T:
    """A record (a dataclass) from a row that has its fields among its columns (and more, such as a hash)."""
    return record_type(**{field.name: getattr(row, field.name) for field in dataclasses.fields(record_type)})


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _one(self, statement: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(statement).first()

    def _run(self, statement: Any) -> int:
        """Execute a statement that changes rows, in a transaction of its own; how many it changed."""
        with self.engine.begin() as connection:
            return connection.execute(statement).rowcount

    @staticmethod
    def _delete_expired(connection: Connection, table: Table, current: float) -> None:
        """Forget expired rows. SKIP LOCKED (PostgreSQL): rows another request is changing right now are
        left for a later cleanup, so two cleanups never wait for each other (nor deadlock)."""
        key = table.primary_key.columns[0]
        expired = select(key).where(table.c.expires_at < current).with_for_update(skip_locked=True)
        connection.execute(delete(table).where(key.in_(expired)))
