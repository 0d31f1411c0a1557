"""The clients and users Authlib asks questions about (codes and tokens are records in storage/).

Authlib never touches the database. It calls methods of these mixins ("is this redirect URI
registered?", "is this secret right?") and the answers are this lesson's policy.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin

from .config import DEFAULT_SCOPE
from .passwords import verify_password

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
    is_resource_server: bool = False  # an MCP server: exchanges (and may introspect) its resources' tokens
    application_type: str = "native"
    kind: str = "registered"  # "seeded", "provisioned", "registered" (RFC 7591) or "metadata document" (CIMD)
    metadata: dict[str, Any] = field(default_factory=dict)  # what it registered, echoed back by /register
    # How a secret is checked against secret_hash: the store's choice (storage/clients.py).
    verify_secret: Callable[[str, str], bool] = field(default=verify_password, repr=False, compare=False)

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
        return self.secret_hash is not None and self.verify_secret(client_secret, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "introspection":
            return self.is_resource_server and method in self.auth_methods
        return method in self.auth_methods  # "token" and "revocation"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types
