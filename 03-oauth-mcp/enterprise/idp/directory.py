"""The company's directory, as the IdP's administrator configured it: users, applications, connections.

Users are the lesson's own (auth_server/seed.py): the same names the MCP server's authorization
server knows, which is what account linking between the two (SSO, SCIM provisioning) gives a
company. Each user's `sub` in every token is the username.

An application is registered here with a secret, as with any IdP, and signs users in through a
loopback redirect URI. A *connection* is the administrator's decision that an application may ask
for ID-JAGs for one authorization server (`audience`) and its MCP servers (`resource`): the spec's
"mapping of valid (audience, resource) pairs", with the application's client id at that
authorization server (the ID-JAG's `client_id`), and the scopes each user may be granted there.
"""

import os
from dataclasses import dataclass, field

from ...auth_server.passwords import hash_password, verify_password
from ...auth_server.seed import USERS

DESKTOP_CLIENT_ID = "journal-desktop"  # the application, as registered at this IdP
DESKTOP_SECRET_ENV, DESKTOP_SECRET_DEFAULT = "IDP_CLIENT_SECRET", "dev-idp-client-secret"  # DEVELOPMENT ONLY
MCP_CLIENT_ID = "journal-enterprise-client"  # the same application, as registered at the MCP authorization server
# What each user may be granted at the MCP server: the administrator's policy (bob may only read).
SCOPES_BY_USER = {"alice": "journal:read journal:write", "bob": "journal:read"}


@dataclass(frozen=True)
class Connection:
    audience: str  # the MCP server's authorization server, by its issuer
    resources: tuple[str, ...]  # the MCP servers behind it
    client_id: str  # the application's client id there


@dataclass
class Directory:
    connections: dict[str, Connection]  # IdP client id -> where it may go
    secrets: dict[str, str] = field(default_factory=dict)  # IdP client id -> scrypt hash of its secret
    passwords: dict[str, str] = field(default_factory=dict)  # username -> scrypt hash

    @classmethod
    def for_lesson(cls, audience: str, resources: tuple[str, ...]) -> "Directory":
        """The lesson's users, its one application, connected to the lesson's authorization server."""
        secret = os.environ.get(DESKTOP_SECRET_ENV, DESKTOP_SECRET_DEFAULT)
        return cls(
            connections={DESKTOP_CLIENT_ID: Connection(audience, resources, MCP_CLIENT_ID)},
            secrets={DESKTOP_CLIENT_ID: hash_password(secret)},
            passwords={name: hash_password(password) for name, password in USERS.items()},
        )

    def check_password(self, username: str, password: str) -> bool:
        # An unknown name costs the same scrypt as a known one: the time taken tells nothing.
        stored = self.passwords.get(username) or self.passwords[next(iter(self.passwords))]
        return verify_password(password, stored) and username in self.passwords

    def scopes_of(self, username: str) -> set[str]:
        return set(SCOPES_BY_USER.get(username, "").split())
