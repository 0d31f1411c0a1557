"""The journal in a database, when the entries must outlive the process or be shared by replicas: `--db`.

The same methods as the lesson's in-memory journal (../server/journal.py), on a SQLite file
(the default, created 0600: it holds everyone's entries) or the PostgreSQL every replica shares
(../database.py). Every query takes the owner, the verified `sub` of the caller's token, and
filters on it: another user's entry is simply not found, so its existence does not leak.

The tools call these methods from worker threads (the SDK runs a tool that is a
plain function in one), so the database never holds up the event loop; each call
takes its own connection from SQLAlchemy's pool.
"""

import os
from datetime import UTC, datetime

from sqlalchemy import JSON, Column, Index, Integer, MetaData, Table, Text, delete, insert, select

from .. import database
from ..server.journal import Entry

metadata = MetaData()
entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("created_at", Text, nullable=False),
    Index("entries_by_owner", "owner", "id"),
    sqlite_autoincrement=True,  # a deleted entry's id is never given to another
)


class DatabaseJournal:
    def __init__(self, db: str | os.PathLike[str]) -> None:
        """`db`: a SQLite file path (created 0600: it holds everyone's entries), or a postgresql+psycopg:// URL."""
        self._engine = database.open_database(os.fspath(db))
        database.create_schema(self._engine, metadata)

    def create(self, owner: str, title: str, content: str, tags: list[str]) -> Entry:
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        with self._engine.begin() as connection:
            entry_id = connection.execute(
                insert(entries)
                .values(owner=owner, title=title, content=content, tags=tags, created_at=created_at)
                .returning(entries.c.id)
            ).scalar_one()
        return Entry(id=entry_id, title=title, content=content, tags=tags, created_at=created_at)

    def list(self, owner: str) -> list[Entry]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(entries).where(entries.c.owner == owner).order_by(entries.c.id)).all()
        return [Entry.model_validate(row, from_attributes=True) for row in rows]

    def get(self, owner: str, entry_id: int) -> Entry | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(entries).where(entries.c.owner == owner, entries.c.id == entry_id)).first()
        return Entry.model_validate(row, from_attributes=True) if row else None

    def delete(self, owner: str, entry_id: int) -> bool:
        with self._engine.begin() as connection:
            deleted = connection.execute(delete(entries).where(entries.c.owner == owner, entries.c.id == entry_id))
        return deleted.rowcount == 1
