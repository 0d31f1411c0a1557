"""Clients and, for a resource-server client, the resources it is (the audiences it may exchange)."""

from collections.abc import Callable

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, Table, Text, delete, select

from ... import database
from ..models import Client
from ..passwords import verify_password
from . import Store, now, tables

clients = Table(
    "clients",
    tables,
    Column("client_id", Text, primary_key=True),
    Column("client_name", Text, nullable=False),
    Column("redirect_uris", JSON, nullable=False),
    Column("grant_types", JSON, nullable=False),
    Column("auth_methods", JSON, nullable=False),
    Column("secret_hash", Text),  # scrypt (../passwords.py); NULL for public clients
    Column("allowed_scope", Text),
    Column("is_resource_server", Boolean, nullable=False, default=False),
    Column("application_type", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("created_at", Integer, nullable=False),
)

# The resources a resource-server client is: the audiences of the tokens it may exchange (../exchange.py).
client_resources = Table(
    "client_resources",
    tables,
    Column("client_id", Text, ForeignKey("clients.client_id"), primary_key=True),
    Column("resource", Text, primary_key=True),
)

STORED = ("client_id", "client_name", "secret_hash", "allowed_scope", "is_resource_server", "application_type", "kind")


class ClientStore(Store):
    # How a client's secret is checked; optional/recently_verified.py remembers the right ones a while.
    verify_secret: Callable[[str, str], bool] = staticmethod(verify_password)

    def get(self, client_id: str) -> Client | None:
        row = self._one(select(clients).where(clients.c.client_id == client_id))
        if row is None:
            return None
        return Client(
            **{name: getattr(row, name) for name in STORED},
            redirect_uris=tuple(row.redirect_uris),
            grant_types=tuple(row.grant_types),
            auth_methods=frozenset(row.auth_methods),
            metadata=row.metadata,
            verify_secret=self.verify_secret,
        )

    async def prepare(self, client_id: str | None) -> str | None:
        """Make `client_id` ready for `get`, which Authlib calls synchronously; why it cannot be, if so.
        Registered clients are in the database already; optional/cimd.py fetches the others here."""
        return None

    def save(self, client: Client) -> None:
        """Register a client, or replace its registration (the seeded ones, at every start)."""
        row = {name: getattr(client, name) for name in STORED} | {
            "redirect_uris": list(client.redirect_uris),
            "grant_types": list(client.grant_types),
            "auth_methods": sorted(client.auth_methods),
            "metadata": client.metadata,
            "created_at": now(),
        }
        with self.engine.begin() as connection:
            upsert = database.insert(connection, clients).values(row)
            connection.execute(upsert.on_conflict_do_update(index_elements=["client_id"], set_=row))

    def set_resources_of(self, client_id: str, resources: list[str]) -> None:
        """The resources a resource-server client is, replacing those it had (../exchange.py reads them)."""
        with self.engine.begin() as connection:
            # Replicas started together each replace the seeded client's list (seed.py) at the same moment:
            # the client's row, locked, makes them take turns, so each deletes what the other inserted
            # instead of both inserting one key. (SQLite serialises writers anyway, and ignores FOR UPDATE.)
            connection.execute(select(clients.c.client_id).where(clients.c.client_id == client_id).with_for_update())
            connection.execute(delete(client_resources).where(client_resources.c.client_id == client_id))
            rows = [{"client_id": client_id, "resource": resource} for resource in resources]
            if rows:
                connection.execute(client_resources.insert(), rows)

    def resources_of(self, client_id: str) -> frozenset[str]:
        with self.engine.connect() as connection:
            query = select(client_resources.c.resource).where(client_resources.c.client_id == client_id)
            return frozenset(row.resource for row in connection.execute(query))
