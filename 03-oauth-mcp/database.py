"""`--db` of the authorization server and of production's MCP server: a SQLite file by default, or a PostgreSQL URL.

- A path, the default: a SQLite file on this machine. Nothing to install or set up; one copy of
  a server, or several on one machine.
- A URL, `postgresql+psycopg://user@host:5432/dbname`: a database every replica of a server
  shares, on as many machines as there are replicas (docs/production.md).

Both go through SQLAlchemy Core, so the queries (auth_server/storage/, production/journal.py) are
the same for both. What differs is set up here, once:

- SQLite: the file is created 0600 in a 0700 directory (it holds private keys and everyone's
  journal). Every transaction starts with BEGIN IMMEDIATE, taking the file's write lock at once:
  two processes can then never both read a row and both change it (the sqlite3 driver would
  start transactions late, at the first write, and a second process would fail "database is
  locked" or act on a stale read). The price is one writer at a time, which SQLite has anyway.
- PostgreSQL: connections are checked before use (a database restart costs one retry, not a
  failed request). Conditional UPDATEs and row locks make each state change atomic (see the
  storage modules); `locked()` adds a database-wide lock for the few things replicas must not do
  at the same time, such as creating the tables.

A URL can carry a password: it is never logged (`describe`). Prefer libpq's own PGPASSWORD or
~/.pgpass over putting it on a command line, where `ps` shows it.
"""

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 5000  # how long a transaction waits for another process's write lock
STARTUP_LOCK = 0x03_0A_17  # any number, the same in every replica: pg_advisory_xact_lock's key


def is_url(db: str) -> bool:
    return "://" in db


def create_owner_only(path: Path) -> None:
    """Make sure `path` is a regular file only its owner can read, before SQLite opens it.

    SQLite would create it world-readable (per the umask). A symlink planted at the path, or a
    file someone else owns or can read, is refused rather than used.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600)
    except OSError as error:  # ELOOP: a symlink
        raise PermissionError(f"{path} is not a regular file of ours ({error.strerror})") from None
    try:
        info = os.fstat(descriptor)
    finally:
        os.close(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{path} must be a file owned by you with mode 0600")


def check_db(db: str) -> str:
    """`db` unchanged if this lesson can use it, else ValueError: a file path, a sqlite:/// URL or a
    postgresql+psycopg:// URL (the two databases this lesson is tested on)."""
    if not is_url(db):
        return db
    try:
        url = make_url(db)
    except ValueError:
        raise ValueError("not a database URL (postgresql+psycopg://USER@HOST/DB) nor a file path") from None
    if url.get_backend_name() == "sqlite" and url.database:
        return db
    if url.get_backend_name() != "postgresql" or url.get_driver_name() != "psycopg":
        raise ValueError(f"{describe(db)}: use a SQLite file path or a postgresql+psycopg:// URL")
    return db


def open_database(db: str) -> Engine:
    """An engine for `--db` (see check_db). PermissionError for a SQLite file that is not private."""
    check_db(db)
    if not is_url(db):
        return _sqlite(Path(db))
    url = make_url(db)
    if url.get_backend_name() == "sqlite":
        return _sqlite(Path(url.database))
    return create_engine(url, pool_pre_ping=True)


def _sqlite(path: Path) -> Engine:
    create_owner_only(path)
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver starts no transaction: `begin` below does
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def describe(db: str | Engine) -> str:
    """`--db` for a log line: a URL without its password."""
    if isinstance(db, Engine):
        return db.url.render_as_string(hide_password=True)
    return make_url(db).render_as_string(hide_password=True) if is_url(db) else db


@contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """A transaction that no other process using this database runs at the same time.

    SQLite: BEGIN IMMEDIATE already excludes every other writer. PostgreSQL: an advisory lock,
    held until the transaction ends.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STARTUP_LOCK})
        yield connection


def create_schema(engine: Engine, metadata: MetaData) -> None:
    """Create the tables that do not exist yet: once, even when replicas start together."""
    with locked(engine) as connection:
        metadata.create_all(connection)


def insert(connection: Connection, table: Table) -> Any:
    """INSERT INTO `table` in the connection's dialect, which has ON CONFLICT (SQLite and PostgreSQL
    spell it alike): `.on_conflict_do_nothing()`, `.on_conflict_do_update(...)`."""
    if connection.dialect.name == "postgresql":
        # Imported only here: the PostgreSQL dialect adds ~50 ms to every start, and most runs use SQLite.
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    return sqlite.insert(table)
