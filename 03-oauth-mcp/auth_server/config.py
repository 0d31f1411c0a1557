"""The core's policy numbers: what this authorization server issues, to whom, for how long (optional/ keeps its own)."""

import os
from dataclasses import dataclass
from pathlib import Path

from ..addresses import SERVER_ADDR

DEFAULT_RESOURCE = f"http://{SERVER_ADDR}/mcp"  # the lesson's MCP server

# Scopes are the AS's vocabulary, shown to the user on the consent page.
SCOPES: dict[str, str] = {
    "journal:read": "Read your journal entries",
    "journal:write": "Create and change journal entries",
}
# A request without `scope` gets the least privilege (RFC 6749 §3.3 lets the AS pick a default).
DEFAULT_SCOPE = "journal:read"

# Short-lived access tokens limit what a leaked one is worth (MCP security considerations,
# "Token Theft"); the client refreshes instead.
DEFAULT_ACCESS_TOKEN_TTL = 300
REFRESH_TOKEN_TTL = 7 * 24 * 3600
# "A maximum authorization code lifetime of 10 minutes is RECOMMENDED" (RFC 6749 §4.1.2);
# the client redeems it the moment the browser lands on its redirect URI.
AUTHORIZATION_CODE_TTL = 60
# How long the consent page may stay open before its CSRF token and pending request expire.
CONSENT_TTL = 600
# How long resource servers may cache /jwks.json; a new signing key is published at least twice
# this long before it signs (optional/rotate_key.py), so every cache has seen it first.
JWKS_MAX_AGE = 300


def default_db_path() -> Path:
    """A per-user state file, so `python -m` from any directory (or parallel tests) never share a db by accident."""
    state_home = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state_home / "mcp-workshop" / "auth_server.db"


@dataclass(frozen=True)
class Settings:
    issuer: str  # no trailing slash: clients compare it as a string (RFC 8414 §3.3, RFC 9207)
    database: str  # a SQLite file path, or a postgresql+psycopg:// URL that replicas share (../database.py)
    resources: tuple[str, ...] = (DEFAULT_RESOURCE,)  # the first is the default audience
    upstreams: tuple[str, ...] = ()  # APIs an MCP server may exchange its caller's token for (RFC 8693)
    access_token_ttl: int = DEFAULT_ACCESS_TOKEN_TTL

    @property
    def default_resource(self) -> str:
        return self.resources[0]

    def endpoint(self, path: str) -> str:
        return f"{self.issuer}{path}"
