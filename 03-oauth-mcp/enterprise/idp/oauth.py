"""The IdP's two jobs, on Authlib: signing users in (OpenID Connect), and exchanging an ID token for an ID-JAG.

Sign-in is Authlib's authorization code grant with PKCE (S256, as the lesson's authorization server
requires it) and its OpenID Connect extension, which adds the ID token to the token response: `iss`
this IdP, `sub` the username, `aud` the application, a `nonce` if the application sent one.

The exchange is RFC 8693, which Authlib does not implement; `IdJagExchange` is what the MCP
extension asks of the IdP (ext-auth §4, §7.6, §7.7):

    grant_type=urn:ietf:params:oauth:grant-type:token-exchange
    requested_token_type=urn:ietf:params:oauth:token-type:id-jag
    subject_token=<the user's ID token>   subject_token_type=urn:ietf:params:oauth:token-type:id_token
    audience=<the MCP authorization server's issuer>   resource=<the MCP server>   (scope=...)
    and the application's own authentication (its secret): required

- the application authenticates: an ID token copied from a log is no use without its secret;
- the ID token is one this IdP issued, unexpired, *to this application* (`aud`);
- the (audience, resource) pair is one the administrator connected this application to;
- the scope is what was asked within what the policy grants this user there.

The answer is an ID-JAG: a JWT with header `typ: oauth-id-jag+jwt`, claims `iss`, `sub`, `aud` (the
audience), `client_id` (the application's id *there*), `resource`, `scope`, a fresh `jti`, `iat`, and
`exp` two minutes later: it is redeemed at once, and a new one is asked for each time.
"""

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    grants,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from ...auth_server.adapter import to_response
from ...auth_server.oauth import S256Required
from ...auth_server.passwords import verify_password
from ...auth_server.resources import InvalidTargetError
from .directory import Connection, Directory

ALGORITHM = "ES256"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 -- a grant type
ID_JAG_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id-jag"  # noqa: S105 -- a token type
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 -- a token type
ID_JAG_TYPE = "oauth-id-jag+jwt"  # the ID-JAG's header typ
CODE_TTL = 60
ID_TOKEN_TTL = 600  # how long the application may hold the ID token and exchange it
ID_JAG_TTL = 120  # an ID-JAG is redeemed at once: short-lived, as the spec requires

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class User:
    username: str

    def get_user_id(self) -> str:
        return self.username


@dataclass(frozen=True)
class Application(ClientMixin):
    """An application registered at this IdP: confidential, and signing its users in through a loopback URI."""

    client_id: str
    secret_hash: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # the request names its redirect URI

    def get_allowed_scope(self, scope: str) -> str | None:
        return "openid" if "openid" in (scope or "").split() else None  # a sign-in, nothing more

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # A desktop application's loopback redirect URI, on whatever port it could open: RFC 8252 §7.3
        # says the IdP MUST allow any port there. Anything else: no.
        parts = urlsplit(redirect_uri)
        loopback = parts.scheme == "http" and parts.hostname == "127.0.0.1"
        return loopback and parts.path == "/callback" and not parts.query and not parts.fragment

    def check_client_secret(self, client_secret: str) -> bool:
        return verify_password(client_secret, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", TOKEN_EXCHANGE)


@dataclass(frozen=True)
class Code(AuthorizationCodeMixin):
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    auth_time: int
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


class SignIn(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        self.server.codes[code] = Code(
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            username=request.user.username,
            nonce=data.get("nonce"),
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            auth_time=int(time.time()),
            expires_at=time.monotonic() + CODE_TTL,
        )

    def query_authorization_code(self, code: str, client: Application) -> Code | None:
        record = self.server.codes.pop(code, None)  # once: a second attempt finds nothing
        if record is None or record.client_id != client.client_id or record.expires_at < time.monotonic():
            return None
        return record

    def delete_authorization_code(self, authorization_code: Code) -> None:
        pass  # taken out when it was looked up

    def authenticate_user(self, authorization_code: Code) -> User:
        return User(authorization_code.username)


class IdToken(OpenIDCode):
    """The ID token Authlib adds to the sign-in's token response: signed with this IdP's key."""

    def __init__(self, server: "IdentityProvider") -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def resolve_client_private_key(self, client: Application) -> ECKey:
        return self.server.key

    def get_client_algorithm(self, client: Application) -> str:
        return ALGORITHM

    def get_encode_header(self, client: Application) -> dict[str, str]:
        return {"alg": ALGORITHM, "kid": self.server.key.kid}

    def get_client_claims(self, client: Application) -> dict[str, Any]:
        return {"iss": self.server.issuer, "aud": client.client_id, "exp": int(time.time()) + ID_TOKEN_TTL}

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return False  # the nonce protects the application, which checks it; codes here are single-use

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        return UserInfo(sub=user.username, preferred_username=user.username)


class IdJagExchange(grants.BaseGrant, grants.TokenEndpointMixin):
    GRANT_TYPE = TOKEN_EXCHANGE
    # ext-auth §7.7: "client authentication MUST be enforced", or a leaked ID token is a key to everything.
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("This application may not exchange tokens")
        form, server = self.request.form, self.server
        if form.get("requested_token_type") != ID_JAG_TOKEN_TYPE:
            raise InvalidRequestError(f"requested_token_type must be {ID_JAG_TOKEN_TYPE}")
        if form.get("subject_token_type") != ID_TOKEN_TYPE:
            raise InvalidRequestError(f"subject_token_type must be {ID_TOKEN_TYPE}")
        subject = server.verify_id_token(form.get("subject_token") or "", client.client_id)
        if subject is None:
            raise InvalidGrantError("The subject token is not a valid ID token this IdP issued to this application")
        connection = server.directory.connections.get(client.client_id)
        resource = form.get("resource") or (connection.resources[0] if connection else None)
        if connection is None or form.get("audience") != connection.audience or resource not in connection.resources:
            raise InvalidTargetError("This application is not connected to that authorization server and resource")
        granted = server.directory.scopes_of(subject["sub"])
        asked = set((form.get("scope") or " ".join(granted)).split())
        if not asked & granted:
            raise InvalidScopeError("The policy grants this user none of the scopes asked for there")
        self.request.client = client
        self.grant = subject["sub"], connection, resource, " ".join(sorted(asked & granted))

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        username, connection, resource, scope = self.grant
        id_jag = self.server.issue_id_jag(username, connection, resource, scope)
        logger.info("issued an ID-JAG for %s to %s, for %s at %s", username, connection.client_id, scope, resource)
        body = {
            "issued_token_type": ID_JAG_TOKEN_TYPE,
            "access_token": id_jag,  # RFC 8693 names the issued token so, whatever it is
            "token_type": "N_A",  # not an access token: nothing to present as a bearer
            "expires_in": ID_JAG_TTL,
            "scope": scope,
        }
        return 200, body, self.TOKEN_RESPONSE_HEADER


class IdentityProvider(AuthorizationServer):
    def __init__(self, issuer: str, directory: Directory) -> None:
        super().__init__(scopes_supported=["openid"])
        self.issuer, self.directory = issuer, directory
        # A new key at every start, in memory only: an IdP for development. Authorization servers
        # that trust it fetch its keys again when they meet a new kid.
        self.key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)
        self.codes: dict[str, Code] = {}
        # The sign-in's access token is never used (this IdP has no API): random, and not kept.
        tokens = BearerTokenGenerator(lambda **_: secrets.token_urlsafe(32), expires_generator=lambda *_: 300)
        self.register_token_generator("default", tokens)
        self.register_grant(SignIn, [S256Required(required=True), IdToken(self)])
        self.register_grant(IdJagExchange)

    def query_client(self, client_id: str) -> Application | None:
        secret_hash = self.directory.secrets.get(client_id)
        return Application(client_id, secret_hash) if secret_hash else None

    def verify_id_token(self, token: str, client_id: str) -> dict[str, Any] | None:
        """The claims of an unexpired ID token this IdP issued to `client_id`, for a user it knows; else None."""
        try:
            decoded = jwt.decode(token, self.key, algorithms=[ALGORITHM])
            jwt.JWTClaimsRegistry(
                leeway=30,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": client_id},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError, TypeError, KeyError):  # joserfc raises TypeError for some headers (crit: 5)
            return None
        if decoded.header.get("typ") != "JWT" or decoded.claims["sub"] not in self.directory.passwords:
            return None  # an ID-JAG of ours is not an ID token
        return decoded.claims

    def issue_id_jag(self, username: str, connection: Connection, resource: str, scope: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": username,
            "aud": connection.audience,
            "client_id": connection.client_id,
            "resource": resource,
            "scope": scope,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + ID_JAG_TTL,
        }
        header = {"alg": ALGORITHM, "typ": ID_JAG_TYPE, "kid": self.key.kid}
        return jwt.encode(header, claims, self.key, algorithms=[ALGORITHM])

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        pass  # nothing this IdP issues is looked up again: ID tokens and ID-JAGs are verified by signature

    def create_oauth2_request(self, request: Any) -> Any:
        return request  # wrapped already (app.py)

    def create_json_request(self, request: Any) -> Any:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Any:
        return to_response(status, body, headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass
