"""Users: who may sign in on the consent page, with a password kept as an scrypt hash (../passwords.py)."""

from sqlalchemy import Column, Table, Text, select

from ... import database
from . import Store, tables

users = Table(
    "users", tables, Column("username", Text, primary_key=True), Column("password_hash", Text, nullable=False)
)


class Users(Store):
    def add(self, username: str, password_hash: str) -> None:
        """Add a user unless one by that name exists: replicas starting together each try, one adds."""
        with self.engine.begin() as connection:
            new_user = database.insert(connection, users).values(username=username, password_hash=password_hash)
            connection.execute(new_user.on_conflict_do_nothing(index_elements=["username"]))

    def password_hash(self, username: str) -> str | None:
        row = self._one(select(users.c.password_hash).where(users.c.username == username))
        return row.password_hash if row else None
