"""Drafts: a journal entry written over several calls, the kind of state a handle carries from call to call.

    start_draft(title)           -> {"handle": "v1.…", "expires_in": 3600}
    add_to_draft(handle, text)   -> how many paragraphs the draft holds
    publish_draft(handle)        -> the journal entry, and the draft is gone

The 2026-07-28 protocol has no sessions: state that spans calls is named by a handle the server
mints and the client passes back as an argument (the specification's "Stateful Tools"). The tools
take whatever store they are given (`DraftStore`); production's is `DatabaseDrafts`: every draft a
row of the database replicas share (`--db`), looked up by its id *and* its owner, the verified
`sub` of the caller (the best practices' `<user_id>:<handle>`), through a handle sealed for that
owner (handles.py). labs/state_handles shows a store that trusts its handles instead.
"""

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Protocol

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Row,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from .. import database
from ..server.app import verified_token
from ..server.journal import Entry, Journal
from ..server.scopes import READ, TOOL_SCOPES, WRITE
from .handles import InvalidHandle, SealedHandles

DRAFT_SECONDS = 3600  # how long a draft and its handle last: said in start_draft's description
MAX_PARAGRAPHS = 100


class Draft(BaseModel):
    title: str
    paragraphs: list[str]


class DraftStarted(BaseModel):
    handle: str
    expires_in: int  # seconds


class DraftStore(Protocol):
    """Where drafts live. Each method takes the caller, the verified `sub`; `add` and `take` raise
    InvalidHandle for a handle that names no draft of that caller's."""

    def start(self, owner: str, title: str) -> str: ...  # the new draft's handle

    def add(self, owner: str, handle: str, text: str) -> int: ...  # paragraphs so far

    def take(self, owner: str, handle: str) -> Draft: ...  # the draft, removed


def add_draft_tools(mcp: MCPServer, journal: Journal, drafts: DraftStore) -> None:
    """The three draft tools, after the lesson's own; writing a draft is writing the journal."""
    TOOL_SCOPES.update(dict.fromkeys(("start_draft", "add_to_draft", "publish_draft"), frozenset({READ, WRITE})))
    handle_field = Field(description="The draft's handle, as start_draft returned it.", max_length=1000)

    @mcp.tool()
    def start_draft(
        title: Annotated[str, Field(description="The entry's title.", min_length=1, max_length=200)],
    ) -> DraftStarted:
        """Start a journal entry to write over several calls (needs journal:write). Returns the draft's handle,
        for add_to_draft and publish_draft; the draft and its handle last an hour."""
        return DraftStarted(handle=drafts.start(verified_token().subject, title), expires_in=DRAFT_SECONDS)

    @mcp.tool()
    def add_to_draft(
        handle: Annotated[str, handle_field],
        text: Annotated[str, Field(description="A paragraph to add.", min_length=1, max_length=10_000)],
    ) -> str:
        """Add a paragraph to one of your drafts (needs journal:write)."""
        with refusing_bad_handles():
            paragraphs = drafts.add(verified_token().subject, handle, text)
        return f"The draft has {paragraphs} paragraph{'s' * (paragraphs != 1)}"

    @mcp.tool()
    def publish_draft(handle: Annotated[str, handle_field]) -> Entry:
        """Publish one of your drafts as a journal entry (needs journal:write); the draft is gone then."""
        subject = verified_token().subject
        with refusing_bad_handles():
            draft = drafts.take(subject, handle)
        return journal.create(subject, draft.title, "\n\n".join(draft.paragraphs), ["draft"])


@contextmanager
def refusing_bad_handles() -> Iterator[None]:
    """A handle that names no draft of the caller's becomes a tool error: the same words whatever the reason."""
    try:
        yield
    except InvalidHandle as error:
        raise ToolError(f"{error}: start a new draft with start_draft") from None


metadata = MetaData()
drafts_table = Table(
    "drafts",
    metadata,
    Column("id", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("paragraphs", JSON, nullable=False),
    Column("expires_at", Integer, nullable=False),
    Index("drafts_by_expiry", "expires_at"),
)


class DatabaseDrafts:
    """Drafts in the database replicas share, each reached through a handle sealed for its owner (handles.py)."""

    def __init__(self, db: str, handles: SealedHandles) -> None:
        self._engine = database.open_database(db)
        database.create_schema(self._engine, metadata)
        self._handles = handles

    def start(self, owner: str, title: str) -> str:
        draft_id, now = secrets.token_urlsafe(16), int(time.time())
        with self._engine.begin() as connection:
            connection.execute(delete(drafts_table).where(drafts_table.c.expires_at < now))  # the forgotten ones
            row = {"id": draft_id, "owner": owner, "title": title, "paragraphs": [], "expires_at": now + DRAFT_SECONDS}
            connection.execute(insert(drafts_table).values(row))
        return self._handles.mint("draft", draft_id, owner)

    def add(self, owner: str, handle: str, text: str) -> int:
        with self._engine.begin() as connection:
            row = self._row(connection, owner, handle)
            if len(row.paragraphs) >= MAX_PARAGRAPHS:
                raise ToolError(f"A draft holds at most {MAX_PARAGRAPHS} paragraphs: publish it")
            paragraphs = [*row.paragraphs, text]
            connection.execute(update(drafts_table).where(drafts_table.c.id == row.id).values(paragraphs=paragraphs))
        return len(paragraphs)

    def take(self, owner: str, handle: str) -> Draft:
        with self._engine.begin() as connection:
            row = self._row(connection, owner, handle)
            connection.execute(delete(drafts_table).where(drafts_table.c.id == row.id))
        return Draft(title=row.title, paragraphs=row.paragraphs)

    def _row(self, connection: Connection, owner: str, handle: str) -> Row:
        """The owner's draft the handle names, locked for this transaction; InvalidHandle if there is none."""
        draft_id = self._handles.open("draft", handle, owner)
        mine = drafts_table.c.id == draft_id, drafts_table.c.owner == owner, drafts_table.c.expires_at >= time.time()
        row = connection.execute(select(drafts_table).where(*mine).with_for_update()).first()
        if row is None:  # published already, or expired: the handle outlived its draft
            raise InvalidHandle("Unknown or expired draft handle")
        return row
