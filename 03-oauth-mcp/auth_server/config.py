"""What this authorization server issues, to whom, and for how long: one place for every policy number."""

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ADDR = "127.0.0.1:9000"
DEFAULT_RESOURCE = "http://127.0.0.1:8095/mcp"  # the lesson's MCP server

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

# Guessing, throttled (throttle.py): this many failures are free within the window; after them
# each attempt must wait 1 s, 2 s, 4 s, ... up to --max-lockout.
DEFAULT_MAX_LOCKOUT = 60
FAILURE_WINDOW = 15 * 60
FREE_PASSWORD_FAILURES_PER_USER = 5
FREE_PASSWORD_FAILURES_PER_ADDRESS = 10  # one address may try several usernames (a shared NAT, a typo)
FREE_CLIENT_SECRET_FAILURES_PER_ADDRESS = 5
# A client secret that matched is checked again with an HMAC, not an scrypt, for this long
# (passwords.py RecentlyVerified); this many such secrets at most.
RIGHT_SECRET_MEMORY_SECONDS = 300
RIGHT_SECRET_MEMORY_ENTRIES = 1024
# /register is open to anyone: this many registrations per address and hour, then the same delays.
DEFAULT_REGISTRATION_LIMIT = 30
REGISTRATION_WINDOW = 3600
# Anyone can make the server fetch a client metadata document (cimd.py): it keeps this many at most.
DEFAULT_CIMD_CACHE_SIZE = 1000
# No OAuth request needs more: a bigger body is refused (413) before it is read (limits.py).
MAX_BODY_BYTES = 64 * 1024
# JSON from another party (a /register body, a metadata document, GitHub's answers) is parsed within
# bounds, 16 levels deep at most (../bounded_json.py, which the MCP server uses too).
MAX_UPSTREAM_ANSWER_BYTES = 64 * 1024  # GitHub's token response or user profile (upstream.py)
# GET /authorize needs no sign-in, yet keeps the request for the consent page (pending_limits.py):
# what one pending authorization holds is bounded, and so is how many one client or address has.
MAX_STATE_LENGTH = 1024  # characters; clients send 32-64 random ones, a few encode a little more
MAX_SCOPE_LENGTH = 512  # every scope this server knows fits many times over
MAX_PENDING_PER_ADDRESS = 20  # a shared address (a NAT, an office) has this many users at the page at once
MAX_PENDING_PER_CLIENT = 100  # raise it for a client with more users signing in within CONSENT_TTL
# How long resource servers may cache /jwks.json; a new signing key is published at least twice
# this long before it signs (rotate_key.py), so every cache has seen it first.
JWKS_MAX_AGE = 300


def default_db_path() -> Path:
    """A per-user state file, so `python -m` from any directory (or parallel tests) never share a db by accident."""
    state_home = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state_home / "mcp-workshop" / "auth_server.db"


@dataclass(frozen=True)
class Settings:
    issuer: str  # no trailing slash: clients compare it as a string (RFC 8414 §3.3, RFC 9207)
    database: str  # a SQLite file path, or a postgresql+psycopg:// URL that replicas share (database.py)
    resources: tuple[str, ...] = (DEFAULT_RESOURCE,)  # the first is the default audience
    upstreams: tuple[str, ...] = ()  # APIs an MCP server may exchange its caller's token for (RFC 8693)
    access_token_ttl: int = DEFAULT_ACCESS_TOKEN_TTL
    cimd_allow_hosts: frozenset[str] = field(default_factory=frozenset)
    cimd_ca_file: Path | None = None  # a development CA trusted for metadata documents, besides the system's
    cimd_cache_size: int = DEFAULT_CIMD_CACHE_SIZE
    # Optional upstream identity provider (upstream.py): off unless a client id is given.
    github_client_id: str | None = None
    github_client_secret: str | None = None
    github_url: str = "https://github.com"
    max_lockout: float = DEFAULT_MAX_LOCKOUT  # the longest wait a run of failures can impose
    registration_limit: int = DEFAULT_REGISTRATION_LIMIT

    @property
    def default_resource(self) -> str:
        return self.resources[0]

    def endpoint(self, path: str) -> str:
        return f"{self.issuer}{path}"
