"""The journal: each user's entries, in memory for as long as the process runs (../production/: in a database).

Every method takes the owner, the verified `sub` of the caller's token, and looks only among that
owner's entries: another user's entry is simply not found, so its existence does not leak.
"""

import itertools
import threading
from datetime import UTC, datetime

from pydantic import BaseModel


class Entry(BaseModel):
    id: int
    title: str
    content: str
    tags: list[str]
    created_at: str


class Journal:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], Entry] = {}  # (owner, id) -> entry
        self._ids = itertools.count(1)  # a deleted entry's id is never given to another
        self._lock = threading.Lock()  # the SDK runs a tool that is a plain function in a worker thread

    def create(self, owner: str, title: str, content: str, tags: list[str]) -> Entry:
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock:
            entry = Entry(id=next(self._ids), title=title, content=content, tags=tags, created_at=created_at)
            self._entries[owner, entry.id] = entry
        return entry

    def list(self, owner: str) -> list[Entry]:
        with self._lock:
            return [entry for (whose, _), entry in self._entries.items() if whose == owner]

    def get(self, owner: str, entry_id: int) -> Entry | None:
        return self._entries.get((owner, entry_id))

    def delete(self, owner: str, entry_id: int) -> bool:
        with self._lock:
            return self._entries.pop((owner, entry_id), None) is not None
