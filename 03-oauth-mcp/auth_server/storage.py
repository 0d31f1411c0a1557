"""Everything the server must remember, in one database (tables.py): a SQLite file, or PostgreSQL for replicas.

Codes and refresh tokens are stored as SHA-256 hashes: a copy of the db does not hand out
working credentials. Passwords and client secrets are scrypt hashes (passwords.py). The
signing key is stored as is, so keep the database private (a SQLite file is created 0600).

Calls come from worker threads (the routes run Authlib and every slow check off the event
loop); each takes a connection from SQLAlchemy's pool and runs in a transaction of its own.
Every replica of the server shares these rows, so each state change that must not race
(redeeming a code, rotating a refresh token, counting a failed attempt) is a conditional UPDATE
whose row count says who won, or a row locked for the read-modify-write: two requests, at one
replica or at two, can never both succeed (SQLite gets the same by taking its write lock at the
start of every transaction: database.py).
"""

import dataclasses
import hashlib
import os
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, delete, exists, func, inspect, select, update

from .. import database
from .models import AuthorizationCode, Client, RefreshToken
from .tables import (
    access_tokens,
    attempts,
    authorization_codes,
    client_resources,
    clients,
    metadata,
    pending_authorizations,
    refresh_tokens,
    signing_keys,
    token_families,
    upstream_logins,
    users,
)

T = TypeVar("T")


def digest(secret: str) -> str:
    """Codes and refresh tokens are 256-bit random strings: a fast hash is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


def now() -> int:
    return int(time.time())


def record_of(record_type: type[T], row: Any) -> T:
    """A models.py record from a row that has its fields among its columns (and more, such as the hash)."""
    return record_type(**{field.name: getattr(row, field.name) for field in dataclasses.fields(record_type)})


def _drop_outdated_pending_authorizations(engine: Engine) -> None:
    """An older database's pending_authorizations lacks the columns that bound it (tables.py). Its rows
    live ten minutes, so the table is dropped, and made anew by create_schema, rather than migrated: a
    consent page open across the upgrade says "expired", and its user starts again."""
    with database.locked(engine) as connection:
        tables = inspect(connection)
        if tables.has_table(pending_authorizations.name):
            columns = {column["name"] for column in tables.get_columns(pending_authorizations.name)}
            if "address" not in columns:
                pending_authorizations.drop(connection)


class Storage:
    def __init__(self, db: str | os.PathLike[str]) -> None:
        """`db`: a SQLite file path, or a postgresql+psycopg:// URL (database.py)."""
        self.engine = database.open_database(os.fspath(db))
        _drop_outdated_pending_authorizations(self.engine)
        database.create_schema(self.engine, metadata)

    def close(self) -> None:
        self.engine.dispose()

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

    # -- clients ---------------------------------------------------------------------------

    def save_client(self, client: Client) -> None:
        """Register a client, or replace its registration (the seeded ones, at every start)."""
        row = {
            "client_id": client.client_id,
            "client_name": client.client_name,
            "redirect_uris": list(client.redirect_uris),
            "grant_types": list(client.grant_types),
            "auth_methods": sorted(client.auth_methods),
            "secret_hash": client.secret_hash,
            "allowed_scope": client.allowed_scope,
            "is_resource_server": client.is_resource_server,
            "application_type": client.application_type,
            "kind": client.kind,
            "metadata": client.metadata,
            "created_at": now(),
        }
        with self.engine.begin() as connection:
            upsert = database.insert(connection, clients).values(row)
            connection.execute(upsert.on_conflict_do_update(index_elements=["client_id"], set_=row))

    def get_client(self, client_id: str) -> Client | None:
        row = self._one(select(clients).where(clients.c.client_id == client_id))
        if row is None:
            return None
        return Client(
            client_id=row.client_id,
            client_name=row.client_name,
            redirect_uris=tuple(row.redirect_uris),
            grant_types=tuple(row.grant_types),
            auth_methods=frozenset(row.auth_methods),
            secret_hash=row.secret_hash,
            allowed_scope=row.allowed_scope,
            is_resource_server=row.is_resource_server,
            application_type=row.application_type,
            kind=row.kind,
            metadata=row.metadata,
        )

    def set_resources_of(self, client_id: str, resources: list[str]) -> None:
        """The resources a resource-server client is, replacing those it had (exchange.py reads them)."""
        with self.engine.begin() as connection:
            connection.execute(delete(client_resources).where(client_resources.c.client_id == client_id))
            if resources:
                rows = [{"client_id": client_id, "resource": resource} for resource in resources]
                connection.execute(client_resources.insert(), rows)

    def resources_of(self, client_id: str) -> frozenset[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(client_resources.c.resource).where(client_resources.c.client_id == client_id)
            )
            return frozenset(row.resource for row in rows)

    # -- users -----------------------------------------------------------------------------

    def add_user(self, username: str, password_hash: str) -> None:
        """Add a user unless one by that name exists: replicas starting together each try, one adds."""
        with self.engine.begin() as connection:
            new_user = database.insert(connection, users).values(username=username, password_hash=password_hash)
            connection.execute(new_user.on_conflict_do_nothing(index_elements=["username"]))

    def get_password_hash(self, username: str) -> str | None:
        row = self._one(select(users.c.password_hash).where(users.c.username == username))
        return row.password_hash if row else None

    # -- signing keys (keys.py) ------------------------------------------------------------

    def get_signing_keys(self) -> list[tuple[dict[str, Any], int]]:
        """Every stored key, (private JWK, from when it signs), oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(signing_keys).order_by(signing_keys.c.created_at, signing_keys.c.kid))
            return [(row.private_jwk, row.created_at) for row in rows]

    def first_signing_key(self, new_key: Callable[[], tuple[str, dict[str, Any]]]) -> None:
        """Store `new_key()` (kid, private JWK) if there is no key yet. Under the database's lock, so
        replicas starting together on an empty database agree on one key instead of each making its own."""
        with database.locked(self.engine) as connection:
            if connection.execute(select(func.count()).select_from(signing_keys)).scalar_one() == 0:
                kid, private_jwk = new_key()
                connection.execute(signing_keys.insert().values(kid=kid, private_jwk=private_jwk, created_at=now()))

    def add_signing_key(self, kid: str, private_jwk: dict[str, Any], signs_from: int) -> None:
        self._run(signing_keys.insert().values(kid=kid, private_jwk=private_jwk, created_at=signs_from))

    # -- pending authorizations (the consent page) -----------------------------------------

    def save_pending(
        self,
        params: list[tuple[str, str]],
        browser_id: str,
        ttl: int,
        client_id: str,
        address: str,
        per_client: int,
        per_address: int,
    ) -> tuple[str, str, int]:
        """Keep a validated authorization request: (request_id, csrf_token, how many older ones gave way).

        The client and the address each keep their `per_client` and `per_address` newest pending
        authorizations; older ones are deleted (pending_limits.py says why they, not the new one, go).
        Requests racing at PostgreSQL may leave one or two over the bound: the next one trims it.
        """
        request_id, csrf_token = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
        with self.engine.begin() as connection:
            self._delete_expired(connection, pending_authorizations, now())
            connection.execute(
                pending_authorizations.insert().values(
                    request_id=request_id,
                    params=[list(pair) for pair in params],
                    csrf_token=csrf_token,
                    browser_hash=digest(browser_id),
                    expires_at=now() + ttl,
                    client_id=client_id,
                    address=address,
                    created_at=time.time(),
                )
            )
            evicted = self._keep_newest(connection, pending_authorizations.c.client_id == client_id, per_client)
            evicted += self._keep_newest(connection, pending_authorizations.c.address == address, per_address)
        return request_id, csrf_token, evicted

    @staticmethod
    def _keep_newest(connection: Connection, owned: Any, keep: int) -> int:
        """Delete all but the `keep` newest pending authorizations that match `owned`; how many went."""
        newest = (
            select(pending_authorizations.c.request_id)
            .where(owned)
            .order_by(pending_authorizations.c.created_at.desc())
            .limit(keep)
        )
        older = delete(pending_authorizations).where(owned, pending_authorizations.c.request_id.not_in(newest))
        return connection.execute(older).rowcount

    def get_pending(self, request_id: str) -> tuple[list[tuple[str, str]], str, str] | None:
        """(params, csrf_token, browser_hash) of an unexpired pending request."""
        row = self._one(
            select(pending_authorizations).where(
                pending_authorizations.c.request_id == request_id, pending_authorizations.c.expires_at >= now()
            )
        )
        if row is None:
            return None
        params = [(key, value) for key, value in row.params]
        return params, row.csrf_token, row.browser_hash

    def browser_is_known(self, browser_id: str) -> bool:
        """Did this server issue this browser cookie, for a pending request that has not expired?"""
        return (
            self._one(
                select(pending_authorizations.c.request_id).where(
                    pending_authorizations.c.browser_hash == digest(browser_id),
                    pending_authorizations.c.expires_at >= now(),
                )
            )
            is not None
        )

    def delete_pending(self, request_id: str) -> bool:
        """Forget a pending request; False if it was already gone (another answer took it)."""
        return bool(self._run(delete(pending_authorizations).where(pending_authorizations.c.request_id == request_id)))

    # -- upstream (GitHub) logins in progress ----------------------------------------------

    def save_upstream_login(self, state: str, request_id: str, code_verifier: str, ttl: int) -> None:
        """One upstream login per pending authorization, the latest: "Approve with GitHub" posted again and
        again on one page (anyone can open it) would otherwise keep a row for each, as many as were sent."""
        with self.engine.begin() as connection:
            self._delete_expired(connection, upstream_logins, now())
            connection.execute(delete(upstream_logins).where(upstream_logins.c.request_id == request_id))
            connection.execute(
                upstream_logins.insert().values(
                    state=state, request_id=request_id, code_verifier=code_verifier, expires_at=now() + ttl
                )
            )

    def take_upstream_login(self, state: str) -> tuple[str, str] | None:
        """(request_id, code_verifier) for an unexpired state, which is consumed."""
        with self.engine.begin() as connection:
            row = connection.execute(
                delete(upstream_logins)
                .where(upstream_logins.c.state == state, upstream_logins.c.expires_at >= now())
                .returning(upstream_logins.c.request_id, upstream_logins.c.code_verifier)
            ).first()
        return (row.request_id, row.code_verifier) if row else None

    # -- authorization codes ---------------------------------------------------------------

    def save_code(self, code: str, record: AuthorizationCode) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                token_families.insert().values(
                    family_id=record.family_id, client_id=record.client_id, username=record.username, created_at=now()
                )
            )
            connection.execute(authorization_codes.insert().values(code_hash=digest(code), **vars(record)))

    def redeem_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """Claim a code exactly once. A code presented again revokes every token issued from it.

        RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization
        server MUST deny the request and SHOULD revoke (when possible) all tokens previously
        issued based on that authorization code." The code is claimed before PKCE is checked,
        so a wrong code_verifier burns it too: one attempt per code.
        """
        code_hash = authorization_codes.c.code_hash == digest(code)
        row = self._one(select(authorization_codes).where(code_hash))
        if row is None or row.client_id != client_id:
            return None
        claimed = self._run(
            update(authorization_codes).where(code_hash, authorization_codes.c.used_at.is_(None)).values(used_at=now())
        )
        if not claimed:
            self.revoke_family(row.family_id)
            return None
        record = record_of(AuthorizationCode, row)
        return None if record.is_expired() else record

    # -- refresh token families ------------------------------------------------------------

    def save_refresh_token(self, token: str, record: RefreshToken) -> None:
        self._run(refresh_tokens.insert().values(token_hash=digest(token), **vars(record)))

    def get_refresh_token(self, token: str) -> tuple[RefreshToken, bool] | None:
        """(record, already_rotated) for a refresh token of a family that is still alive."""
        row = self._one(
            select(refresh_tokens)
            .join(token_families)
            .where(refresh_tokens.c.token_hash == digest(token), token_families.c.revoked_at.is_(None))
        )
        if row is None:
            return None
        record = record_of(RefreshToken, row)
        return record, row.rotated_at is not None

    def claim_refresh_token(self, token: str) -> bool:
        """Mark a refresh token used, if it was not and its family is alive; False if another request
        used it first (at this replica or another: the UPDATE decides, in the database)."""
        alive = exists().where(
            token_families.c.family_id == refresh_tokens.c.family_id, token_families.c.revoked_at.is_(None)
        )
        return bool(
            self._run(
                update(refresh_tokens)
                .where(refresh_tokens.c.token_hash == digest(token), refresh_tokens.c.rotated_at.is_(None), alive)
                .values(rotated_at=now())
            )
        )

    def revoke_family(self, family_id: str) -> None:
        """Kill a consent: its refresh tokens stop working and its access tokens introspect inactive."""
        self._run(
            update(token_families)
            .where(token_families.c.family_id == family_id, token_families.c.revoked_at.is_(None))
            .values(revoked_at=now())
        )

    # -- access tokens (only their ids: the JWT itself carries the rest) -------------------

    def save_access_token(self, jti: str, family_id: str | None, client_id: str, expires_at: int) -> None:
        self._run(
            access_tokens.insert().values(jti=jti, family_id=family_id, client_id=client_id, expires_at=expires_at)
        )

    def access_token_revoked(self, jti: str) -> bool:
        """True for a revoked jti, a revoked family, or a jti this server never recorded."""
        row = self._one(
            select(access_tokens.c.revoked_at, token_families.c.revoked_at.label("family_revoked_at"))
            .select_from(access_tokens.outerjoin(token_families))
            .where(access_tokens.c.jti == jti)
        )
        return row is None or row.revoked_at is not None or row.family_revoked_at is not None

    def revoke_access_token(self, jti: str) -> None:
        self._run(
            update(access_tokens)
            .where(access_tokens.c.jti == jti, access_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now())
        )

    # -- throttled attempts (throttle.py) --------------------------------------------------

    def blocked_until(self, key: str) -> float:
        """The time before which no attempt for `key` may be made; 0 if none is blocked."""
        row = self._one(
            select(attempts.c.blocked_until).where(attempts.c.key == key, attempts.c.expires_at >= time.time())
        )
        return row.blocked_until if row else 0.0

    def take_attempt(self, key: str, window: float, delay: Callable[[int], float]) -> float:
        """Count an attempt before it is made, or, if `key` must wait, how long (and count nothing).

        Checking and counting with the row locked: attempts sent all at once, to one replica or
        to several, are counted one by one, so no more of them get through than one after
        another would.
        """
        current = time.time()
        with self.engine.begin() as connection:
            row = self._locked_attempt(connection, key, current, window)
            alive = row.expires_at >= current
            if alive and row.blocked_until > current:
                return row.blocked_until - current
            self._count(connection, key, row.count + 1 if alive else 1, current, window, delay)
        return 0.0

    def count_attempt(self, key: str, window: float, delay: Callable[[int], float]) -> None:
        """Count an attempt already made (a failure), however long `key` should have waited."""
        current = time.time()
        with self.engine.begin() as connection:
            row = self._locked_attempt(connection, key, current, window)
            self._count(connection, key, row.count + 1 if row.expires_at >= current else 1, current, window, delay)

    def give_back_attempt(self, key: str) -> None:
        """An attempt counted by take_attempt does not count after all (it succeeded, or was not made)."""
        self._run(
            update(attempts).where(attempts.c.key == key, attempts.c.count > 0).values(count=attempts.c.count - 1)
        )

    def forget_attempts(self, key: str) -> None:
        self._run(delete(attempts).where(attempts.c.key == key))

    def _locked_attempt(self, connection: Connection, key: str, current: float, window: float) -> Any:
        """The row of `key`, created empty if missing, locked until the transaction ends (SELECT ... FOR UPDATE)."""
        # Expired rows are deleted here, so the table holds only the keys attempted within the last window.
        self._delete_expired(connection, attempts, current)
        empty = {"key": key, "count": 0, "blocked_until": 0.0, "expires_at": current + window}
        connection.execute(database.insert(connection, attempts).values(empty).on_conflict_do_nothing())
        return connection.execute(select(attempts).where(attempts.c.key == key).with_for_update()).one()

    @staticmethod
    def _count(
        connection: Connection, key: str, count: int, current: float, window: float, delay: Callable[[int], float]
    ) -> None:
        # The window restarts after a window without attempts.
        connection.execute(
            update(attempts)
            .where(attempts.c.key == key)
            .values(count=count, blocked_until=current + delay(count), expires_at=current + window)
        )
