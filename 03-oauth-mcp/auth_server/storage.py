"""Everything the server must remember, in one SQLite file (stdlib sqlite3).

Codes and refresh tokens are stored as SHA-256 hashes: a copy of the db does not hand out
working credentials. Passwords and client secrets are scrypt hashes (passwords.py). The
signing key is stored as is, so keep the file private (it is created mode 0600).

Calls come from worker threads (the routes run Authlib and every slow check off the event
loop), so one lock serializes them on the one connection. Each state change that must not race
(redeeming a code, rotating a refresh token, counting a failed attempt) is a conditional UPDATE
whose row count says who won, or an IMMEDIATE transaction, so even two processes sharing the
file cannot both succeed.
"""

import hashlib
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .models import AuthorizationCode, Client, RefreshToken

SCHEMA = """
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    client_name TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,        -- JSON array
    grant_types TEXT NOT NULL,          -- JSON array
    auth_methods TEXT NOT NULL,         -- JSON array
    secret_hash TEXT,
    allowed_scope TEXT,
    is_resource_server INTEGER NOT NULL DEFAULT 0,
    application_type TEXT NOT NULL,
    kind TEXT NOT NULL,
    metadata TEXT NOT NULL,             -- JSON object
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY,
    private_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_authorizations (
    request_id TEXT PRIMARY KEY,
    params TEXT NOT NULL,               -- the validated /authorize query: JSON [[name, value], ...]
    csrf_token TEXT NOT NULL,
    browser_hash TEXT NOT NULL,         -- hash of the cookie that binds it to one browser
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS upstream_logins (
    state TEXT PRIMARY KEY,             -- the state sent to GitHub (upstream.py)
    request_id TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS token_families (
    family_id TEXT PRIMARY KEY,         -- one per consent: a code and every token issued from it
    client_id TEXT NOT NULL,
    username TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS authorization_codes (
    code_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL REFERENCES token_families,
    client_id TEXT NOT NULL,
    redirect_uri TEXT,
    scope TEXT NOT NULL,
    username TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    resource TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL REFERENCES token_families,
    client_id TEXT NOT NULL,
    username TEXT NOT NULL,
    scope TEXT NOT NULL,
    resource TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER                  -- set once used: a second use is theft
);
CREATE TABLE IF NOT EXISTS access_tokens (
    jti TEXT PRIMARY KEY,
    family_id TEXT REFERENCES token_families,  -- NULL for client_credentials
    client_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS attempts (
    key TEXT PRIMARY KEY,               -- what is throttled: "password-user:alice", "register:127.0.0.1", ...
    count INTEGER NOT NULL,             -- attempts counted since the window opened
    blocked_until REAL NOT NULL,        -- no further attempt before this time (throttle.py)
    expires_at REAL NOT NULL            -- forgotten after this: a window without attempts
);
"""


def digest(secret: str) -> str:
    """Codes and refresh tokens are 256-bit random strings: a fast hash is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


def now() -> int:
    return int(time.time())


class Storage:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Create the file 0600 before SQLite opens it: it holds the private signing key.
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        # isolation_level=None: autocommit, with explicit transactions where several rows change.
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        # One connection is one transaction at a time: two threads using it at once would run
        # their statements inside each other's BEGIN ... COMMIT. So every use holds this lock,
        # re-entrant because a transaction holds it across the statements it runs.
        self.lock = threading.RLock()
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA busy_timeout = 5000")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.db.execute(sql, params).fetchone()

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Execute a statement that changes rows; how many it changed."""
        with self.lock:
            return self.db.execute(sql, params).rowcount

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    # -- clients ---------------------------------------------------------------------------

    def save_client(self, client: Client) -> None:
        self._run(
            "INSERT OR REPLACE INTO clients VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                client.client_id,
                client.client_name,
                json.dumps(client.redirect_uris),
                json.dumps(client.grant_types),
                json.dumps(sorted(client.auth_methods)),
                client.secret_hash,
                client.allowed_scope,
                int(client.is_resource_server),
                client.application_type,
                client.kind,
                json.dumps(client.metadata),
                now(),
            ),
        )

    def get_client(self, client_id: str) -> Client | None:
        row = self._one("SELECT * FROM clients WHERE client_id = ?", (client_id,))
        if row is None:
            return None
        return Client(
            client_id=row["client_id"],
            client_name=row["client_name"],
            redirect_uris=tuple(json.loads(row["redirect_uris"])),
            grant_types=tuple(json.loads(row["grant_types"])),
            auth_methods=frozenset(json.loads(row["auth_methods"])),
            secret_hash=row["secret_hash"],
            allowed_scope=row["allowed_scope"],
            is_resource_server=bool(row["is_resource_server"]),
            application_type=row["application_type"],
            kind=row["kind"],
            metadata=json.loads(row["metadata"]),
        )

    # -- users -----------------------------------------------------------------------------

    def add_user(self, username: str, password_hash: str) -> None:
        self._run("INSERT INTO users VALUES (?, ?)", (username, password_hash))

    def get_password_hash(self, username: str) -> str | None:
        row = self._one("SELECT password_hash FROM users WHERE username = ?", (username,))
        return row["password_hash"] if row else None

    # -- signing key -----------------------------------------------------------------------

    def get_signing_key(self) -> dict[str, Any] | None:
        row = self._one("SELECT private_jwk FROM signing_keys ORDER BY created_at DESC LIMIT 1")
        return json.loads(row["private_jwk"]) if row else None

    def save_signing_key(self, kid: str, private_jwk: dict[str, Any]) -> None:
        self._run("INSERT INTO signing_keys VALUES (?, ?, ?)", (kid, json.dumps(private_jwk), now()))

    # -- pending authorizations (the consent page) -----------------------------------------

    def save_pending(self, params: list[tuple[str, str]], browser_id: str, ttl: int) -> tuple[str, str]:
        request_id, csrf_token = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
        with self.transaction():
            self._run("DELETE FROM pending_authorizations WHERE expires_at < ?", (now(),))
            self._run(
                "INSERT INTO pending_authorizations VALUES (?, ?, ?, ?, ?)",
                (request_id, json.dumps(params), csrf_token, digest(browser_id), now() + ttl),
            )
        return request_id, csrf_token

    def get_pending(self, request_id: str) -> tuple[list[tuple[str, str]], str, str] | None:
        """(params, csrf_token, browser_hash) of an unexpired pending request."""
        row = self._one(
            "SELECT * FROM pending_authorizations WHERE request_id = ? AND expires_at >= ?", (request_id, now())
        )
        if row is None:
            return None
        params = [(key, value) for key, value in json.loads(row["params"])]
        return params, row["csrf_token"], row["browser_hash"]

    def browser_is_known(self, browser_id: str) -> bool:
        """Did this server issue this browser cookie, for a pending request that has not expired?"""
        row = self._one(
            "SELECT 1 FROM pending_authorizations WHERE browser_hash = ? AND expires_at >= ?",
            (digest(browser_id), now()),
        )
        return row is not None

    def delete_pending(self, request_id: str) -> bool:
        """Forget a pending request; False if it was already gone (another answer took it)."""
        return bool(self._run("DELETE FROM pending_authorizations WHERE request_id = ?", (request_id,)))

    # -- upstream (GitHub) logins in progress ----------------------------------------------

    def save_upstream_login(self, state: str, request_id: str, code_verifier: str, ttl: int) -> None:
        with self.transaction():
            self._run("DELETE FROM upstream_logins WHERE expires_at < ?", (now(),))
            self._run(
                "INSERT INTO upstream_logins VALUES (?, ?, ?, ?)", (state, request_id, code_verifier, now() + ttl)
            )

    def take_upstream_login(self, state: str) -> tuple[str, str] | None:
        """(request_id, code_verifier) for an unexpired state, which is consumed."""
        row = self._one(
            "DELETE FROM upstream_logins WHERE state = ? AND expires_at >= ? RETURNING request_id, code_verifier",
            (state, now()),
        )
        return (row["request_id"], row["code_verifier"]) if row else None

    # -- authorization codes ---------------------------------------------------------------

    def save_code(self, code: str, record: AuthorizationCode) -> None:
        with self.transaction():
            self._run(
                "INSERT INTO token_families VALUES (?, ?, ?, ?, NULL)",
                (record.family_id, record.client_id, record.username, now()),
            )
            self._run(
                "INSERT INTO authorization_codes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    digest(code),
                    record.family_id,
                    record.client_id,
                    record.redirect_uri,
                    record.scope,
                    record.username,
                    record.code_challenge,
                    record.code_challenge_method,
                    record.resource,
                    record.expires_at,
                ),
            )

    def redeem_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """Claim a code exactly once. A code presented again revokes every token issued from it.

        RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization
        server MUST deny the request and SHOULD revoke (when possible) all tokens previously
        issued based on that authorization code." The code is claimed before PKCE is checked,
        so a wrong code_verifier burns it too: one attempt per code.
        """
        row = self._one("SELECT * FROM authorization_codes WHERE code_hash = ?", (digest(code),))
        if row is None or row["client_id"] != client_id:
            return None
        claimed = self._run(
            "UPDATE authorization_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
            (now(), digest(code)),
        )
        if not claimed:
            self.revoke_family(row["family_id"])
            return None
        record = AuthorizationCode(
            **{key: row[key] for key in row.keys() if key not in ("code_hash", "used_at")}  # noqa: SIM118
        )
        return None if record.is_expired() else record

    # -- refresh token families ------------------------------------------------------------

    def save_refresh_token(self, token: str, record: RefreshToken) -> None:
        self._run(
            "INSERT INTO refresh_tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            (
                digest(token),
                record.family_id,
                record.client_id,
                record.username,
                record.scope,
                record.resource,
                record.expires_at,
            ),
        )

    def get_refresh_token(self, token: str) -> tuple[RefreshToken, bool] | None:
        """(record, already_rotated) for a refresh token of a family that is still alive."""
        row = self._one(
            """SELECT r.* FROM refresh_tokens r JOIN token_families f USING (family_id)
               WHERE r.token_hash = ? AND f.revoked_at IS NULL""",
            (digest(token),),
        )
        if row is None:
            return None
        record = RefreshToken(
            **{key: row[key] for key in row.keys() if key not in ("token_hash", "rotated_at")}  # noqa: SIM118
        )
        return record, row["rotated_at"] is not None

    def rotate_refresh_token(self, token: str) -> bool:
        """Mark a refresh token used; False if another request used it first."""
        return bool(
            self._run(
                "UPDATE refresh_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL",
                (now(), digest(token)),
            )
        )

    def revoke_family(self, family_id: str) -> None:
        """Kill a consent: its refresh tokens stop working and its access tokens introspect inactive."""
        self._run(
            "UPDATE token_families SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL", (now(), family_id)
        )

    # -- access tokens (only their ids: the JWT itself carries the rest) -------------------

    def save_access_token(self, jti: str, family_id: str | None, client_id: str, expires_at: int) -> None:
        self._run("INSERT INTO access_tokens VALUES (?, ?, ?, ?, NULL)", (jti, family_id, client_id, expires_at))

    def access_token_revoked(self, jti: str) -> bool:
        """True for a revoked jti, a revoked family, or a jti this server never recorded."""
        row = self._one(
            """SELECT a.revoked_at, f.revoked_at AS family_revoked_at
               FROM access_tokens a LEFT JOIN token_families f USING (family_id) WHERE a.jti = ?""",
            (jti,),
        )
        return row is None or row["revoked_at"] is not None or row["family_revoked_at"] is not None

    def revoke_access_token(self, jti: str) -> None:
        self._run("UPDATE access_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL", (now(), jti))

    # -- throttled attempts (throttle.py) --------------------------------------------------

    def blocked_until(self, key: str) -> float:
        """The time before which no attempt for `key` may be made; 0 if none is blocked."""
        row = self._one("SELECT blocked_until FROM attempts WHERE key = ? AND expires_at >= ?", (key, time.time()))
        return row["blocked_until"] if row else 0.0

    def take_attempt(self, key: str, window: float, delay: Callable[[int], float]) -> float:
        """Count an attempt before it is made, or, if `key` must wait, how long (and count nothing).

        Checking and counting in one transaction: attempts sent all at once are counted one by
        one, so no more of them get through than one after another would.
        """
        current = time.time()
        with self.transaction():
            row = self._one("SELECT count, blocked_until, expires_at FROM attempts WHERE key = ?", (key,))
            alive = row is not None and row["expires_at"] >= current
            if alive and row["blocked_until"] > current:
                return row["blocked_until"] - current
            self._count(key, row["count"] + 1 if alive else 1, current, window, delay)
        return 0.0

    def count_attempt(self, key: str, window: float, delay: Callable[[int], float]) -> None:
        """Count an attempt already made (a failure), however long `key` should have waited."""
        current = time.time()
        with self.transaction():
            row = self._one("SELECT count FROM attempts WHERE key = ? AND expires_at >= ?", (key, current))
            self._count(key, row["count"] + 1 if row else 1, current, window, delay)

    def give_back_attempt(self, key: str) -> None:
        """An attempt counted by take_attempt does not count after all (it succeeded, or was not made)."""
        self._run("UPDATE attempts SET count = count - 1 WHERE key = ? AND count > 0", (key,))

    def forget_attempts(self, key: str) -> None:
        self._run("DELETE FROM attempts WHERE key = ?", (key,))

    def _count(self, key: str, count: int, current: float, window: float, delay: Callable[[int], float]) -> None:
        # The window restarts after a window without attempts. Expired rows are deleted here, so
        # the table holds only the keys attempted within the last window.
        self._run("DELETE FROM attempts WHERE expires_at < ?", (current,))
        blocked_until, expires_at = current + delay(count), current + window
        self._run("INSERT OR REPLACE INTO attempts VALUES (?, ?, ?, ?)", (key, count, blocked_until, expires_at))
