"""The Authlib authorization server and the places where its defaults are not safe enough for MCP.

Authlib implements the grants, PKCE verification, client authentication and the token and
revocation endpoints. Each override below says which default it replaces and why (see also the
reference table in the lesson README):

| Authlib default                          | here                                                |
|------------------------------------------|-----------------------------------------------------|
| PKCE optional, `plain` allowed           | S256 required of every client (`S256Required`)      |
| public clients refused at /token         | `none` accepted for code and refresh grants         |
| refresh tokens not rotated               | rotated on every use; reuse revokes the family      |
| tokens live 10 days                      | `--access-token-ttl`, 300 s by default (tokens.py)  |
| no RFC 8707; `aud` = client id           | `resource` checked, bound to code and `aud`         |
| allowed scope = registered scope         | any supported scope, the user consents (models.py)  |
| RFC 9207 `iss` extension needs Flask     | added by the authorization flow itself (flow.py)    |
| client secrets checked without limit     | a `Guard` asked first (guard.py)                    |

More grants, endpoints and ways for a client to authenticate plug in from outside, with Authlib's
own `register_grant`, `register_endpoint` and `register_client_auth_method`: optional/wiring.py
adds /introspect and /register that way.
"""

import logging
import secrets
import time
from typing import Any, ClassVar

from authlib.oauth2 import AuthorizationServer as BaseAuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidGrantError, InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge

from .adapter import StarletteOAuth2Request, to_response
from .config import AUTHORIZATION_CODE_TTL, REFRESH_TOKEN_TTL, SCOPES, Settings
from .exchange import TokenExchangeGrant
from .guard import Guard
from .keys import SigningKeys
from .models import Client, User
from .resources import ResourceIndicators
from .storage.clients import ClientStore
from .storage.codes import AuthorizationCode, AuthorizationCodes
from .storage.refresh_tokens import RefreshToken, RefreshTokens
from .tokens import AccessTokenGenerator, TokenRevocation

logger = logging.getLogger(__name__)


class S256Required(CodeChallenge):
    """PKCE as OAuth 2.1 and MCP require it: always, and only S256."""

    # Override: Authlib also accepts "plain", which protects nothing if the request is observed.
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    CODE_CHALLENGE_METHODS: ClassVar[dict[str, Any]] = {"S256": compare_s256_code_challenge}

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        # Override: Authlib lets a request with neither parameter through, and takes a missing
        # method to mean "plain" (RFC 7636 §4.3). Both are refused, for confidential clients too.
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge and code_challenge_method=S256")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(ResourceIndicators, grants.AuthorizationCodeGrant):
    # Override: Authlib's default leaves out "none", so public clients (every MCP client) could
    # not redeem a code. PKCE is what protects their codes instead of a secret.
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post", "none"]

    def validate_authorization_request(self) -> str:
        redirect_uri = super().validate_authorization_request()  # client, redirect URI, scope, PKCE
        try:
            self.request.resource = self.check_resource(self.server.settings.resources, None)
        except OAuth2Error as error:
            error.redirect_uri = redirect_uri  # client and redirect URI are valid: tell the client
            raise
        return redirect_uri

    def save_authorization_code(self, code: str, request: StarletteOAuth2Request) -> None:
        data = request.payload.data
        self.server.codes.save(
            code,
            AuthorizationCode(
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                username=request.user.username,
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                resource=request.resource,
                family_id=secrets.token_urlsafe(16),
                expires_at=int(time.time()) + AUTHORIZATION_CODE_TTL,
            ),
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        record = self.server.codes.redeem(code, client.client_id)
        if record is None:
            logger.warning("refused an unknown, expired or replayed authorization code from %s", client.client_id)
        return record

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        pass  # redeem consumed it already, and keeps the row to recognise a replay

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User:
        return User(authorization_code.username)

    def validate_token_request(self) -> None:
        super().validate_token_request()  # client auth, code, redirect_uri, then PKCE (a hook)
        bound = self.request.authorization_code.resource
        self.request.resource = self.check_resource(self.server.settings.resources, bound)


class RefreshTokenGrant(ResourceIndicators, grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post", "none"]
    # Override: Authlib keeps the old refresh token valid and issues no new one. OAuth 2.1 §4.3.1
    # (and MCP) require rotation for public clients: a stolen refresh token then works once at
    # most, and its second use, by thief or victim, is detected.
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        found = self.server.refresh_tokens.get(refresh_token)
        if found is None:
            return None
        record, rotated = found
        if rotated:
            # Reuse: two parties hold this family's tokens. Revoke all of them (OAuth 2.1 §4.3.1).
            self.server.revocations.revoke_family(record.family_id)
            logger.warning("refresh token reused by %s: revoked its token family", record.client_id)
            return None
        return None if record.is_expired() else record

    def authenticate_user(self, refresh_token: RefreshToken) -> User:
        return User(refresh_token.username)

    def validate_token_request(self) -> None:
        super().validate_token_request()  # client auth, the token, scope ⊆ the original
        record = self.request.refresh_token
        self.request.resource = self.check_resource(self.server.settings.resources, record.resource)
        # Claim the old token now, before anything is issued. Authlib would revoke it only after
        # issuing the new tokens (revoke_old_credential), so two requests racing with one token,
        # at one replica or at two, could both get a 200. The claim is one conditional UPDATE:
        # exactly one request wins; the other is reuse, and revokes the family.
        if not self.server.refresh_tokens.claim(self.request.form["refresh_token"]):
            self.server.revocations.revoke_family(record.family_id)
            logger.warning("refresh token used twice at once by %s: revoked its token family", record.client_id)
            raise InvalidGrantError()

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        pass  # claimed before issuing (validate_token_request), and kept to recognise a reuse


class AuthorizationServer(BaseAuthorizationServer):
    def __init__(
        self,
        settings: Settings,
        keys: SigningKeys,
        clients: ClientStore,
        codes: AuthorizationCodes,
        refresh_tokens: RefreshTokens,
        guard: Guard,
    ) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.grant_types: list[str] = []  # for the metadata document
        self.settings, self.keys, self.clients, self.guard = settings, keys, clients, guard
        self.codes, self.refresh_tokens, self.revocations = codes, refresh_tokens, codes.revocations
        self.register_token_generator("default", AccessTokenGenerator(settings, keys))
        self.register_grant(AuthorizationCodeGrant, [S256Required(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_grant(TokenExchangeGrant)  # RFC 8693, for MCP servers calling upstream APIs
        self.register_endpoint(TokenRevocation(settings, keys, refresh_tokens, self.revocations))

    def register_grant(self, grant_cls: Any, extensions: list[Any] | None = None) -> None:
        super().register_grant(grant_cls, extensions)
        self.grant_types.append(grant_cls.GRANT_TYPE)

    def authenticate_client(self, request: Any, methods: list[str], endpoint: str = "token") -> Client:
        """Authlib's client authentication; a secret only once the guard agrees (guard.py).

        Requests without a secret (public clients) cost no hash, and meet no guard.
        """
        if not presents_secret(request):
            return super().authenticate_client(request, methods, endpoint)
        self.guard.before_client_secret(request.address)
        try:
            return super().authenticate_client(request, methods, endpoint)
        except UnicodeDecodeError:  # Authlib decodes Basic credentials as UTF-8, unchecked
            self.guard.after_wrong_client_secret(request.address)
            raise InvalidClientError(status_code=401, description="Malformed Basic credentials") from None
        except InvalidClientError:
            self.guard.after_wrong_client_secret(request.address)
            raise

    def query_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    async def prepare_client(self, client_id: str | None) -> str | None:
        """Before Authlib asks for `client_id`: why it cannot be had, for the page, if so (storage/clients.py)."""
        return await self.clients.prepare(client_id)

    def save_token(self, token: dict[str, Any], request: StarletteOAuth2Request) -> None:
        claims = self.keys.verify(token["access_token"], self.settings.issuer)  # just minted, by us
        if request.authorization_code is not None:  # the code grant starts a family...
            family_id, granted_scope = request.authorization_code.family_id, request.authorization_code.scope
        elif request.refresh_token is not None:  # ...refreshing continues it...
            family_id, granted_scope = request.refresh_token.family_id, request.refresh_token.scope
        else:  # ...other grants have none (token exchange, client credentials)
            family_id, granted_scope = None, claims["scope"]
        self.revocations.save_access_token(claims["jti"], family_id, claims["client_id"], claims["exp"])
        if "refresh_token" in token:
            # RFC 6749 §6: a rotated refresh token keeps the original scope, even when this
            # access token was narrowed with a smaller `scope`.
            record = RefreshToken(
                family_id=family_id,
                client_id=claims["client_id"],
                username=request.user.username,
                scope=granted_scope,
                resource=claims["aud"],
                expires_at=int(time.time()) + REFRESH_TOKEN_TTL,
            )
            self.refresh_tokens.save(token["refresh_token"], record)
        issued = claims["client_id"], claims["aud"], claims["scope"], claims["jti"]
        logger.info("issued a token to %s for %s, scope %r, jti %s", *issued)

    def create_oauth2_request(self, request: Any) -> Any:
        return request  # the routes wrap requests already (adapter.py): reading a body is async

    def create_json_request(self, request: Any) -> Any:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Any:
        return to_response(status, body, headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass  # Authlib's hook for framework signals; nothing listens here


def presents_secret(request: Any) -> bool:
    """Does the request carry a client secret (HTTP Basic, or client_secret in the body)?"""
    scheme = request.headers.get("Authorization", "").split(" ", 1)[0]
    return scheme.lower() == "basic" or bool(request.payload.data.get("client_secret"))
