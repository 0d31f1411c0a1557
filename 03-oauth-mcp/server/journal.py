"""The journal: each user's entries in SQLite.

Every query takes the owner, the verified `sub` of the caller's token, and
filters on it. There is no way to ask for "entry 7" without saying whose:
another user's entry is simply not found, so its existence does not leak.
"""

import json
import os
import sqlite3
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner      TEXT NOT NULL,
    title      TEXT NOT NULL,
    content    TEXT NOT NULL,
    tags       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_owner ON entries (owner, id);
"""


def create_owner_only(path: Path) -> None:
    """Make sure `path` is a regular file only its owner can read, before SQLite opens it.

    Everyone's journal entries live in this file. It is created 0600 (SQLite would create it
    world-readable, per the umask); a symlink planted at the path, or a file someone else
    owns or can read, is refused rather than used.
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


class Entry(BaseModel):
    id: int
    title: str
    content: str
    tags: list[str]
    created_at: str


class Journal:
    def __init__(self, path: Path) -> None:
        create_owner_only(path)
        # One connection shared by the server's threads; the lock serialises use.
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.executescript(SCHEMA)

    def create(self, owner: str, title: str, content: str, tags: list[str]) -> Entry:
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO entries (owner, title, content, tags, created_at) VALUES (?, ?, ?, ?, ?)",
                (owner, title, content, json.dumps(tags), created_at),
            )
        return Entry(id=cursor.lastrowid or 0, title=title, content=content, tags=tags, created_at=created_at)

    def list(self, owner: str) -> list[Entry]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM entries WHERE owner = ? ORDER BY id", (owner,)).fetchall()
        return [self._entry(row) for row in rows]

    def get(self, owner: str, entry_id: int) -> Entry | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM entries WHERE owner = ? AND id = ?", (owner, entry_id)).fetchone()
        return self._entry(row) if row else None

    def delete(self, owner: str, entry_id: int) -> bool:
        with self._lock, self._db:
            cursor = self._db.execute("DELETE FROM entries WHERE owner = ? AND id = ?", (owner, entry_id))
        return cursor.rowcount == 1

    @staticmethod
    def _entry(row: sqlite3.Row) -> Entry:
        return Entry(
            id=row["id"],
            title=row["title"],
            content=row["content"],
            tags=json.loads(row["tags"]),
            created_at=row["created_at"],
        )
