"""The journal: each user's entries, in memory while the process runs (../production/: in a database).

Every method takes the owner, the verified `sub`, and looks only at that owner's entries: another
user's entry is simply not found, so whether it exists does not leak.
"""

import itertools
from collections import defaultdict
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
        self._entries: defaultdict[str, dict[int, Entry]] = defaultdict(dict)  # owner -> id -> entry
        # Each step below is one operation on a dict or a counter, atomic under the GIL: the SDK runs these
        # tools in worker threads, and no lock is needed.
        self._ids = itertools.count(1)  # a deleted entry's id is never given to another

    def create(self, owner: str, title: str, content: str, tags: list[str]) -> Entry:
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        entry = Entry(id=next(self._ids), title=title, content=content, tags=tags, created_at=created_at)
        self._entries[owner][entry.id] = entry
        return entry

    def list(self, owner: str) -> list[Entry]:
        return list(self._entries[owner].values())

    def get(self, owner: str, entry_id: int) -> Entry | None:
        return self._entries[owner].get(entry_id)

    def delete(self, owner: str, entry_id: int) -> bool:
        return self._entries[owner].pop(entry_id, None) is not None
