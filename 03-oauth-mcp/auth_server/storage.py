"""Everything the server must remember, in one SQLite file (stdlib sqlite3).

Codes and refresh tokens are stored as SHA-256 hashes: a copy of the db does not hand out
working credentials. Passwords and client secrets are scrypt hashes (passwords.py). The
signing key is stored as is, so keep the file private (it is created mode 0600).

Every call happens on the server's event-loop thread, and each state change that must not
race (redeeming a code, rotating a refresh token) is one conditional UPDATE whose row count
says who won, so even two processes sharing the file cannot both succeed.
"""

import hashlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
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
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA busy_timeout = 5000")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- clients ---------------------------------------------------------------------------

    def save_client(self, client: Client) -> None:
        self.db.execute(
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
        row = self.db.execute("SELECT * FROM clients WHERE client_id = ?", (client_id,)).fetchone()
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
        self.db.execute("INSERT INTO users VALUES (?, ?)", (username, password_hash))

    def get_password_hash(self, username: str) -> str | None:
        row = self.db.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()
        return row["password_hash"] if row else None

    # -- signing key -----------------------------------------------------------------------

    def get_signing_key(self) -> dict[str, Any] | None:
        row = self.db.execute("SELECT private_jwk FROM signing_keys ORDER BY created_at DESC LIMIT 1").fetchone()
        return json.loads(row["private_jwk"]) if row else None

    def save_signing_key(self, kid: str, private_jwk: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO signing_keys VALUES (?, ?, ?)", (kid, json.dumps(private_jwk), now()))

    # -- pending authorizations (the consent page) -----------------------------------------

    def save_pending(self, params: list[tuple[str, str]], browser_id: str, ttl: int) -> tuple[str, str]:
        request_id, csrf_token = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
        self.db.execute("DELETE FROM pending_authorizations WHERE expires_at < ?", (now(),))
        self.db.execute(
            "INSERT INTO pending_authorizations VALUES (?, ?, ?, ?, ?)",
            (request_id, json.dumps(params), csrf_token, digest(browser_id), now() + ttl),
        )
        return request_id, csrf_token

    def get_pending(self, request_id: str) -> tuple[list[tuple[str, str]], str, str] | None:
        """(params, csrf_token, browser_hash) of an unexpired pending request."""
        row = self.db.execute(
            "SELECT * FROM pending_authorizations WHERE request_id = ? AND expires_at >= ?", (request_id, now())
        ).fetchone()
        if row is None:
            return None
        params = [(key, value) for key, value in json.loads(row["params"])]
        return params, row["csrf_token"], row["browser_hash"]

    def delete_pending(self, request_id: str) -> None:
        self.db.execute("DELETE FROM pending_authorizations WHERE request_id = ?", (request_id,))

    # -- upstream (GitHub) logins in progress ----------------------------------------------

    def save_upstream_login(self, state: str, request_id: str, code_verifier: str, ttl: int) -> None:
        self.db.execute("DELETE FROM upstream_logins WHERE expires_at < ?", (now(),))
        self.db.execute(
            "INSERT INTO upstream_logins VALUES (?, ?, ?, ?)", (state, request_id, code_verifier, now() + ttl)
        )

    def take_upstream_login(self, state: str) -> tuple[str, str] | None:
        """(request_id, code_verifier) for an unexpired state, which is consumed."""
        row = self.db.execute(
            "DELETE FROM upstream_logins WHERE state = ? AND expires_at >= ? RETURNING request_id, code_verifier",
            (state, now()),
        ).fetchone()
        return (row["request_id"], row["code_verifier"]) if row else None

    # -- authorization codes ---------------------------------------------------------------

    def save_code(self, code: str, record: AuthorizationCode) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO token_families VALUES (?, ?, ?, ?, NULL)",
                (record.family_id, record.client_id, record.username, now()),
            )
            self.db.execute(
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
        row = self.db.execute("SELECT * FROM authorization_codes WHERE code_hash = ?", (digest(code),)).fetchone()
        if row is None or row["client_id"] != client_id:
            return None
        claimed = self.db.execute(
            "UPDATE authorization_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
            (now(), digest(code)),
        ).rowcount
        if not claimed:
            self.revoke_family(row["family_id"])
            return None
        record = AuthorizationCode(
            **{key: row[key] for key in row.keys() if key not in ("code_hash", "used_at")}  # noqa: SIM118
        )
        return None if record.is_expired() else record

    # -- refresh token families ------------------------------------------------------------

    def save_refresh_token(self, token: str, record: RefreshToken) -> None:
        self.db.execute(
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
        row = self.db.execute(
            """SELECT r.* FROM refresh_tokens r JOIN token_families f USING (family_id)
               WHERE r.token_hash = ? AND f.revoked_at IS NULL""",
            (digest(token),),
        ).fetchone()
        if row is None:
            return None
        record = RefreshToken(
            **{key: row[key] for key in row.keys() if key not in ("token_hash", "rotated_at")}  # noqa: SIM118
        )
        return record, row["rotated_at"] is not None

    def rotate_refresh_token(self, token: str) -> bool:
        """Mark a refresh token used; False if another request used it first."""
        return bool(
            self.db.execute(
                "UPDATE refresh_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL",
                (now(), digest(token)),
            ).rowcount
        )

    def revoke_family(self, family_id: str) -> None:
        """Kill a consent: its refresh tokens stop working and its access tokens introspect inactive."""
        self.db.execute(
            "UPDATE token_families SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL", (now(), family_id)
        )

    # -- access tokens (only their ids: the JWT itself carries the rest) -------------------

    def save_access_token(self, jti: str, family_id: str | None, client_id: str, expires_at: int) -> None:
        self.db.execute("INSERT INTO access_tokens VALUES (?, ?, ?, ?, NULL)", (jti, family_id, client_id, expires_at))

    def access_token_revoked(self, jti: str) -> bool:
        """True for a revoked jti, a revoked family, or a jti this server never recorded."""
        row = self.db.execute(
            """SELECT a.revoked_at, f.revoked_at AS family_revoked_at
               FROM access_tokens a LEFT JOIN token_families f USING (family_id) WHERE a.jti = ?""",
            (jti,),
        ).fetchone()
        return row is None or row["revoked_at"] is not None or row["family_revoked_at"] is not None

    def revoke_access_token(self, jti: str) -> None:
        self.db.execute("UPDATE access_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL", (now(), jti))
