"""Access tokens: minted as RFC 9068 JWTs, killed by /revoke (RFC 7009).

Authlib implements both protocols; this file answers the questions they leave open: what the
`aud` is, which key signs, and what revoking means. (/introspect, RFC 7662, is optional/introspection.py.)
"""

import secrets
import time
from contextvars import ContextVar
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator

from .config import Settings
from .keys import ALGORITHM, SigningKeys
from .models import Client
from .storage.refresh_tokens import RefreshToken, RefreshTokens
from .storage.revocations import AccessToken, Revocations

# RFC 8707: the resource the token being minted is for. Authlib's generator is called without
# the request, so the grant sets this around the call (resources.py, ResourceIndicators).
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

    def __init__(self, settings: Settings, keys: SigningKeys, refresh: RefreshTokens, revoked: Revocations) -> None:
        super().__init__()
        self.settings, self.keys, self.refresh_tokens, self.revocations = settings, keys, refresh, revoked

    def check_params(self, request: Any, client: Client) -> None:
        # The hint may be wrong or unknown: both kinds are looked up anyway (RFC 7009 §2.1).
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token'")

    def query_token(self, token_string: str, token_type_hint: str | None) -> AccessToken | RefreshToken | None:
        claims = self.keys.verify(token_string, self.settings.issuer)
        if claims is not None:
            return AccessToken(claims, revoked=False)
        found = self.refresh_tokens.get(token_string)
        return found[0] if found else None  # unknown: still 200, as RFC 7009 §2.2 requires

    def revoke_token(self, token: AccessToken | RefreshToken, request: Any) -> None:
        if isinstance(token, AccessToken):
            self.revocations.revoke_access_token(token.jti)
        else:
            self.revocations.revoke_family(token.family_id)
