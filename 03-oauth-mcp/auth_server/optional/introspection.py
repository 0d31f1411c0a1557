"""Optional: token introspection (RFC 7662) at POST /introspect, for resource servers that would rather ask than verify.

The lesson's MCP server verifies each JWT itself, with this server's published keys. A resource
server that introspects instead (production/'s `--verifier introspection`) sees what a JWT cannot
say: a revoked token, or any token of a family revoked after refresh-token reuse or code replay, is
`{"active": false}`.

A resource server learns about the tokens of its own resources only (as in a token exchange, the
core's exchange.py): with `--resource A --resource B`, A's server asking about a token for B hears
`{"active": false}`, as RFC 7662 §2.2 allows, and not who B's user is, with what scope, until when.
"""

from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from ..config import Settings
from ..keys import SigningKeys
from ..models import Client
from ..storage.clients import ClientStore
from ..storage.revocations import AccessToken, Revocations

# Only resource-server clients (Client.check_endpoint_auth_method) with their secret: RFC 7662
# §2.1 requires authorization, or the endpoint becomes a token-scanning oracle.
METHODS = ["client_secret_basic", "client_secret_post"]
METADATA = {"introspection_endpoint_auth_methods_supported": METHODS}  # and introspection_endpoint


class TokenIntrospection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = METHODS

    def __init__(self, settings: Settings, keys: SigningKeys, clients: ClientStore, revocations: Revocations) -> None:
        super().__init__()
        self.settings, self.keys, self.clients, self.revocations = settings, keys, clients, revocations

    def check_params(self, request: Any, client: Client) -> None:
        # token_type_hint is only a hint (RFC 7662 §2.1): ignore it rather than refuse odd values.
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token'")

    def query_token(self, token_string: str, token_type_hint: str | None) -> AccessToken | None:
        # Only access tokens: refresh tokens are none of a resource server's business, and an
        # unknown, expired, foreign or malformed token is simply inactive.
        claims = self.keys.verify(token_string, self.settings.issuer)
        if claims is None:
            return None
        return AccessToken(claims, revoked=self.revocations.access_token_revoked(claims["jti"]))

    def check_permission(self, token: AccessToken, client: Client, request: Any) -> bool:
        # Its resources are registered with the client (seed.py, add_resource_server.py); a resource this
        # server no longer serves counts for no one.
        own = self.clients.resources_of(client.client_id) & set(self.settings.resources)
        return client.is_resource_server and token.claims["aud"] in own

    def introspect_token(self, token: AccessToken) -> dict[str, Any]:
        claims = token.claims
        return {
            "active": True,
            "token_type": "Bearer",
            "scope": claims["scope"],
            "client_id": claims["client_id"],
            "sub": claims["sub"],
            "aud": claims["aud"],
            "iss": claims["iss"],
            "exp": claims["exp"],
            "iat": claims["iat"],
            "jti": claims["jti"],
        }
