"""The records Authlib asks questions about: clients, users, codes and tokens.

Authlib never touches the database. It calls methods of these mixins ("is this redirect URI
registered?", "is this secret right?") and the answers are this lesson's policy.
"""

import time
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin

from .config import DEFAULT_SCOPE, RIGHT_SECRET_MEMORY_ENTRIES, RIGHT_SECRET_MEMORY_SECONDS
from .passwords import RecentlyVerified

# One per process: a resource server that introspects checks its secret once every few minutes, not
# once per token (passwords.py says why that matters).
client_secrets = RecentlyVerified(RIGHT_SECRET_MEMORY_SECONDS, RIGHT_SECRET_MEMORY_ENTRIES)

PUBLIC = frozenset({"none"})
CONFIDENTIAL = frozenset({"client_secret_basic", "client_secret_post"})


@dataclass(frozen=True)
class User:
    username: str

    def get_user_id(self) -> str:
        return self.username  # becomes the access token's `sub`


@dataclass(frozen=True)
class Client(ClientMixin):
    client_id: str
    client_name: str
    redirect_uris: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = ()
    auth_methods: frozenset[str] = PUBLIC  # how it may authenticate at /token and /revoke
    # repr=False: Authlib logs clients with %r, and a hash is what offline guessing starts from.
    secret_hash: str | None = field(default=None, repr=False)
    # None: any scope the server supports, because a user consents to each request (and a
    # 403 insufficient_scope step-up must be able to ask for more than the first request did).
    # A set string: a machine client, limited to what it was provisioned with.
    allowed_scope: str | None = None
    is_resource_server: bool = False  # may call /introspect
    application_type: str = "native"
    kind: str = "registered"  # "seeded", "provisioned", "registered" (RFC 7591) or "metadata document" (CIMD)
    metadata: dict[str, Any] = field(default_factory=dict)  # what it registered, echoed back by /register

    @property
    def is_public(self) -> bool:
        return self.auth_methods == PUBLIC

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OAuth 2.1 §4.1.1: redirect_uri may be omitted only if exactly one is registered.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The scope to grant, or None to refuse with invalid_scope.

        Overrides Authlib's usual "requested ∩ registered": the server has already checked the
        request against scopes_supported, and for interactive clients the user decides.
        """
        scope = scope or DEFAULT_SCOPE
        if self.allowed_scope is not None and not set(scope.split()) <= set(self.allowed_scope.split()):
            return None
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string match, no prefix or pattern (OAuth 2.1 §2.3.1, MCP "Open Redirection").
        # OAuth 2.1 §8.4.2 would also let loopback URIs vary their port; MCP clients register
        # the exact URI they listen on, so this server does not relax the match.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return self.secret_hash is not None and client_secrets.verify(client_secret, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "introspection":
            return self.is_resource_server and method in self.auth_methods
        return method in self.auth_methods  # "token" and "revocation"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass(frozen=True)
class AuthorizationCode(AuthorizationCodeMixin):
    client_id: str
    redirect_uri: str | None
    scope: str
    username: str
    code_challenge: str
    code_challenge_method: str
    resource: str  # RFC 8707: the audience the user approved
    family_id: str  # every token issued from this code belongs to this family
    expires_at: int

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return self.expires_at < time.time()


@dataclass(frozen=True)
class RefreshToken(TokenMixin):
    family_id: str
    client_id: str
    username: str
    scope: str
    resource: str
    expires_at: int

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, self.expires_at - int(time.time()))

    def is_expired(self) -> bool:
        return self.expires_at < time.time()

    def is_revoked(self) -> bool:
        return False  # revoked and rotated refresh tokens are never loaded (see storage)


@dataclass(frozen=True)
class AccessToken(TokenMixin):
    """A JWT access token this server signed, plus what the db knows about it (revocation)."""

    claims: dict[str, Any]
    revoked: bool

    @property
    def jti(self) -> str:
        return self.claims["jti"]

    def check_client(self, client: Client) -> bool:
        return self.claims["client_id"] == client.client_id

    def get_scope(self) -> str:
        return self.claims["scope"]

    def get_expires_in(self) -> int:
        return max(0, self.claims["exp"] - int(time.time()))

    def is_expired(self) -> bool:
        return self.claims["exp"] <= time.time()

    def is_revoked(self) -> bool:
        return self.revoked
