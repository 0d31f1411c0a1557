"""Access tokens: minted as RFC 9068 JWTs, looked up by /introspect (RFC 7662), killed by /revoke (RFC 7009).

Authlib implements the three protocols; this file answers the questions they leave open:
what the `aud` is, which key signs, who may introspect, and what revoking means.
"""

import secrets
import time
from contextvars import ContextVar
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator

from .config import Settings
from .keys import ALGORITHM, SigningKeys
from .models import AccessToken, Client, RefreshToken
from .storage import Storage

# RFC 8707: the resource the token being minted is for. Authlib's generator is called without
# the request, so the grant sets this around the call (oauth.py, ResourceIndicators).
token_audience: ContextVar[str] = ContextVar("token_audience")
# RFC 8693, set by a token exchange (exchange.py): who acts for the subject (`act`), and the
# subject token's expiry, which the new token may not outlive.
token_actor: ContextVar[dict[str, Any] | None] = ContextVar("token_actor", default=None)
token_lifetime_cap: ContextVar[int | None] = ContextVar("token_lifetime_cap", default=None)


class AccessTokenGenerator(JWTBearerTokenGenerator):
    """RFC 9068 JWT access tokens: `typ: at+jwt`, ES256, the key's `kid`, `aud` = the resource."""

    def __init__(self, settings: Settings, keys: SigningKeys) -> None:
        super().__init__(
            issuer=settings.issuer,
            alg=ALGORITHM,
            # Refresh tokens are opaque random strings: only this server ever reads them.
            refresh_token_generator=lambda **_: secrets.token_urlsafe(32),
            # Override: Authlib's default lifetime is 10 days for code and client-credentials tokens.
            expires_generator=settings.access_token_ttl,
        )
        self.keys = keys

    def get_jwks(self) -> Any:
        return self.keys.signing_key_set()  # the one key every replica signs with now (keys.py)

    def get_extra_claims(self, client: Client, grant_type: str, user: Any, scope: str) -> dict[str, Any]:
        actor = token_actor.get()
        return {"act": actor} if actor else {}  # RFC 8693 §4.1: present only on exchanged tokens

    def _get_expires_in(self, client: Client, grant_type: str) -> int:
        expires_in = super()._get_expires_in(client, grant_type)
        cap = token_lifetime_cap.get()
        return max(0, min(expires_in, cap - int(time.time()))) if cap is not None else expires_in

    def get_audiences(self, client: Client, user: Any, scope: str) -> str:
        # Override: Authlib uses the client's id as the audience (RFC 8707 is a TODO in it).
        # The audience must be the MCP server, which MUST reject tokens not meant for it.
        return token_audience.get()


class TokenIntrospection(IntrospectionEndpoint):
    """RFC 7662 for resource servers that would rather ask than verify JWTs themselves.

    Unlike local JWT verification, it sees revocation: a revoked token, or any token of a
    family revoked after refresh-token reuse or code replay, is `{"active": false}`.

    A resource server learns about the tokens of its own resources only (as in a token exchange,
    exchange.py): with `--resource A --resource B`, A's server asking about a token for B hears
    `{"active": false}`, as RFC 7662 §2.2 allows, and not who B's user is, with what scope, until when.
    """

    # Only resource-server clients (Client.check_endpoint_auth_method) with their secret:
    # RFC 7662 §2.1 requires authorization, or the endpoint becomes a token-scanning oracle.
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def __init__(self, settings: Settings, storage: Storage, keys: SigningKeys) -> None:
        super().__init__()
        self.settings, self.storage, self.keys = settings, storage, keys

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
        return AccessToken(claims, revoked=self.storage.access_token_revoked(claims["jti"]))

    def check_permission(self, token: AccessToken, client: Client, request: Any) -> bool:
        # Its resources are registered with the client (seed.py, add_resource_server.py); a resource this
        # server no longer serves counts for no one.
        own = self.storage.resources_of(client.client_id) & set(self.settings.resources)
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


class TokenRevocation(RevocationEndpoint):
    """RFC 7009. Public clients identify themselves by client_id alone; confidential ones authenticate.

    Revoking a refresh token revokes its whole family (RFC 7009 §2.1 says the server SHOULD also
    invalidate the access tokens of the same grant). Revoking a JWT access token records its
    `jti`: introspection then says inactive, but a resource server that only checks the JWT
    signature cannot know, until the token expires. That is the price of self-contained tokens,
    and the reason they live minutes, not days.
    """

    # Override: Authlib's default is client_secret_basic only, which locks public clients out.
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post", "none"]

    def __init__(self, settings: Settings, storage: Storage, keys: SigningKeys) -> None:
        super().__init__()
        self.settings, self.storage, self.keys = settings, storage, keys

    def check_params(self, request: Any, client: Client) -> None:
        # The hint may be wrong or unknown: both kinds are looked up anyway (RFC 7009 §2.1).
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token'")

    def query_token(self, token_string: str, token_type_hint: str | None) -> AccessToken | RefreshToken | None:
        claims = self.keys.verify(token_string, self.settings.issuer)
        if claims is not None:
            return AccessToken(claims, revoked=False)
        found = self.storage.get_refresh_token(token_string)
        return found[0] if found else None  # unknown: still 200, as RFC 7009 §2.2 requires

    def revoke_token(self, token: AccessToken | RefreshToken, request: Any) -> None:
        if isinstance(token, AccessToken):
            self.storage.revoke_access_token(token.jti)
        else:
            self.storage.revoke_family(token.family_id)
