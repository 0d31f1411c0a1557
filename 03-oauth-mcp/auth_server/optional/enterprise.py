"""Optional: Enterprise-Managed Authorization: an ID-JAG from a trusted identity provider, redeemed for an access token.

The MCP extension (io.modelcontextprotocol/enterprise-managed-authorization) for companies whose
users sign in once, at the company's identity provider (IdP). The client exchanges the user's ID
token there for an Identity Assertion JWT Authorization Grant (ID-JAG, RFC 8693), and brings it
here with the JWT bearer grant (RFC 7523 §2.1):

    grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
    assertion=<ID-JAG: typ oauth-id-jag+jwt; iss = the IdP, sub = the user, aud = this server,
               client_id = the client here, resource = the MCP server, scope, jti, exp>
    (and the client's own authentication: a secret, or private_key_jwt)

The IdP decided, by its administrator's policy, that this user may use this client for this MCP
server; this server issues the access token, for the user the IdP asserted and the resource it named,
without a consent page. Which IdPs it believes is the operator's choice: `--trusted-idp
ISSUER=JWKS_URL` (repeatable), and nothing without it.

Authlib's `JWTBearerGrant` is built for assertions a client signs about itself (`iss` = the client)
and never authenticates the client. An ID-JAG is signed by a third party, so this grant replaces its
validation, keeping Authlib's parsing, claim checks (`aud`, `exp` with leeway, required claims) and
token response. Every check below is the spec's (ext-auth §5.1, §7; draft-ietf-oauth-identity-
assertion-authz-grant), and each refusal is `invalid_grant` unless the client itself failed:

- the client authenticates, and may use this grant;
- `typ` is `oauth-id-jag+jwt` (an ID token, `typ: JWT`, is not a grant);
- `iss` is a trusted IdP, and the signature verifies with its keys (ES256 or RS256 only);
- `aud` is this server's issuer, exactly one value; `exp` has not passed, and is at most ten minutes away;
- `client_id` is the authenticated client: an ID-JAG issued for one client is no use to another;
- `resource` is an MCP server this server issues tokens for, and the token is for it, whatever
  the request's own `resource` says;
- `sub` is a user this server knows. An unknown user is refused: no account is made on the fly
  (just-in-time provisioning), and none is matched by `email`, which an IdP may let users change;
- the `jti` was never redeemed before, at any replica (used_assertions.py): the spec requires it;
- the scope is what the client asks for within what the ID-JAG grants (their intersection), and
  no refresh token is issued: once the access token expires, the client fetches a new ID-JAG.
"""

import logging
import os
import time
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import anyio.from_thread
import httpx2
import typer
from authlib.common.security import is_secure_transport
from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc7523 import JWTBearerGrant
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ...bounded_json import JsonOutOfBounds, parse_json
from ...server_extras.kept import Kept
from ..config import DEFAULT_SCOPE
from ..models import CONFIDENTIAL, Client, User
from ..passwords import hash_password
from ..resources import ResourceIndicators
from ..storage.clients import ClientStore
from ..storage.users import Users
from .client_keys import ALGORITHMS, KeySetProblem, public_key_set
from .used_assertions import UsedAssertions

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ID_JAG_TYPE = "oauth-id-jag+jwt"  # the JWT header's typ (RFC 8725 §3.11: explicit typing)
LEEWAY = 30
MAX_LIFETIME = 600  # an ID-JAG "MUST be short-lived": one that expires later than this is refused
MAX_JWKS_BYTES = 64 * 1024
MAX_IDP_KEYS = 20  # IdPs publish several keys (Entra ID about eight)
JWKS_MAX_AGE = 300  # an IdP's keys are fetched again after this, and on a kid not seen (at most every 30 s)

# Metadata (the extension's §6; the IETF draft requires jwt-bearer in grant_types_supported, which
# registering the grant does).
METADATA: dict[str, Any] = {"authorization_grant_profiles_supported": ["urn:ietf:params:oauth:grant-profile:id-jag"]}

ENTERPRISE_CLIENT_ID = "journal-enterprise-client"
ENTERPRISE_SECRET_ENV, ENTERPRISE_SECRET_DEFAULT = "JOURNAL_ENTERPRISE_CLIENT_SECRET", "dev-enterprise-client-secret"

logger = logging.getLogger(__name__)


def parse_trusted_idps(values: list[str] | None) -> list[str] | None:
    for value in values or []:
        issuer, _, jwks_url = value.partition("=")
        if not issuer.startswith(("https://", "http://")) or not jwks_url:
            raise typer.BadParameter(f"{value!r} is not ISSUER=JWKS_URL")
        if not is_secure_transport(jwks_url) or not jwks_url.startswith(("https://", "http://")):
            raise typer.BadParameter(f"{jwks_url!r}: an IdP's keys come over https (http only on loopback)")
    return values


TrustedIdpOption = Annotated[
    list[str] | None,
    typer.Option(
        callback=parse_trusted_idps,
        metavar="ISSUER=JWKS_URL",
        help="An enterprise identity provider whose ID-JAGs this server redeems (the JWT bearer grant), by its "
        "issuer, exactly as its tokens name it, and where its public keys are; repeatable. [default: none]",
        show_default=False,
    ),
]


class TrustedIdentityProviders:
    """The IdPs the operator named, and each one's keys: fetched when first needed, kept, fetched again on a new kid."""

    def __init__(self, jwks_urls: dict[str, str]) -> None:
        self._keys = {issuer: Kept(self._fetcher(issuer, url), JWKS_MAX_AGE) for issuer, url in jwks_urls.items()}

    def __bool__(self) -> bool:
        return bool(self._keys)

    def trusts(self, issuer: Any) -> bool:
        return isinstance(issuer, str) and issuer in self._keys

    def keys(self, issuer: str, kid: str | None) -> KeySet | None:
        """The keys of a trusted `issuer`, one named `kid` among them if it can be had; None if they cannot
        be fetched. Called from a worker thread, as Authlib's grants run."""

        def has_kid(keys: KeySet) -> bool:
            return kid in {None, *(key.kid for key in keys.keys)}

        return anyio.from_thread.run(self._keys[issuer].get, has_kid)

    @staticmethod
    def _fetcher(issuer: str, url: str) -> Any:
        async def fetch() -> KeySet | None:
            try:
                async with (
                    httpx2.AsyncClient(timeout=5, follow_redirects=False, trust_env=False) as http,
                    http.stream("GET", url) as response,
                ):
                    response.raise_for_status()
                    body = b""
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_JWKS_BYTES:
                            raise JsonOutOfBounds(f"larger than {MAX_JWKS_BYTES} bytes")
                keys = public_key_set(parse_json(body, MAX_JWKS_BYTES), MAX_IDP_KEYS)
            except (httpx2.HTTPError, JsonOutOfBounds, KeySetProblem) as error:
                logger.warning("could not fetch the keys of identity provider %s from %s: %s", issuer, url, error)
                return None
            logger.info("fetched the keys of identity provider %s (%d keys)", issuer, len(keys.keys))
            return keys

        return fetch


@dataclass(frozen=True)
class EnterpriseTrust:
    """What the grant consults: whose ID-JAGs to believe, who the users are, which assertions were used."""

    idps: TrustedIdentityProviders
    users: Users
    used: UsedAssertions


class IdentityAssertionGrant(ResourceIndicators, JWTBearerGrant):
    """RFC 7523 §2.1 for ID-JAGs. Reads `server.enterprise` (an `EnterpriseTrust`, set by wiring.py)."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
    CLAIMS_OPTIONS: ClassVar[dict[str, Any]] = {
        name: {"essential": True} for name in ("iss", "sub", "aud", "exp", "iat", "jti", "client_id")
    }
    LEEWAY = LEEWAY

    def get_audiences(self) -> list[str]:
        return [self.server.settings.issuer]  # the issuer, exactly (the profile says: its Issuer URL)

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()  # Authlib's JWTBearerGrant never does
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("This client may not use the JWT bearer grant")
        assertion = self.request.form.get("assertion")
        if not assertion:
            raise InvalidRequestError("Missing 'assertion'")
        header, unverified = self.extract_assertion(assertion)
        if header.get("typ") != ID_JAG_TYPE:
            raise InvalidGrantError(f"The assertion is not an ID-JAG (typ {ID_JAG_TYPE})")
        trust: EnterpriseTrust = self.server.enterprise
        if not trust.idps.trusts(unverified.get("iss")):
            raise InvalidGrantError("The assertion's issuer is not a trusted identity provider")
        kid = header.get("kid") if isinstance(header.get("kid"), str) else None
        keys = trust.idps.keys(unverified["iss"], kid)
        if keys is None:
            raise InvalidGrantError("The identity provider's keys cannot be fetched now")
        try:
            claims = jwt.decode(assertion, keys, algorithms=ALGORITHMS).claims
        except (JoseError, ValueError, TypeError, KeyError):  # joserfc raises TypeError for some headers (crit: 5)
            raise InvalidGrantError("The assertion's signature did not verify with its issuer's keys") from None
        self.verify_claims(claims)  # the essential claims, aud, exp (and iat, nbf if present)
        self._check(claims, client.client_id)
        user = User(claims["sub"])
        if trust.users.password_hash(user.username) is None:
            logger.warning("refused an ID-JAG from %s for %r: not a user of this server", claims["iss"], user.username)
            raise InvalidGrantError("The assertion's subject is not a user of this server")
        if not trust.used.first_use("ID-JAG", claims["iss"], claims["jti"], int(claims["exp"]) + LEEWAY):
            logger.warning("refused a replayed ID-JAG from %s (jti %s)", claims["iss"], claims["jti"])
            raise InvalidGrantError("The assertion was used already: ask the identity provider for a new one")
        self.request.client, self.request.user = client, user
        self.request.resource = claims["resource"]  # the audience: from the IdP's claim, never the form
        self.request.scope = self._scope(claims, client.allowed_scope)

    def _check(self, claims: dict[str, Any], client_id: str) -> None:
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) != 1:
            raise InvalidGrantError("The assertion must name exactly one audience")
        if not isinstance(claims["jti"], str) or not isinstance(claims["sub"], str) or len(claims["jti"]) > 200:
            raise InvalidGrantError("The assertion's sub and jti must be strings")
        if claims["exp"] > time.time() + MAX_LIFETIME:
            raise InvalidGrantError(f"An ID-JAG must expire within {MAX_LIFETIME} s")
        if claims["client_id"] != client_id:
            raise InvalidGrantError("The assertion was issued to another client")
        resource = claims.get("resource")
        if not isinstance(resource, str) or resource not in self.server.settings.resources:
            raise InvalidGrantError("The assertion is not for a resource this server issues tokens for")
        if self.request.form.get("resource") not in (None, resource):
            raise InvalidGrantError("The requested resource is not the assertion's")

    def _scope(self, claims: dict[str, Any], allowed_scope: str | None) -> str:
        # ext-auth §7.2.1: the intersection of what is asked and what the ID-JAG grants. An ID-JAG that
        # says nothing about scope grants what the client was provisioned with, or the least privilege.
        granted = claims.get("scope") if isinstance(claims.get("scope"), str) else allowed_scope or DEFAULT_SCOPE
        asked = self.request.payload.scope or granted
        self.server.validate_requested_scope(asked)  # invalid_scope for a scope this server does not have
        scope = [name for name in asked.split() if name in granted.split()]
        if not scope:
            raise InvalidScopeError("The assertion grants none of the scopes asked for")
        return " ".join(scope)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        # Override: Authlib's uses the form's scope; the granted one is the intersection above. No
        # refresh token (the IETF draft's SHOULD NOT): the next token takes a fresh ID-JAG.
        token = self.generate_token(scope=self.request.scope, user=self.request.user, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


def seed_enterprise_client(clients: ClientStore) -> None:
    """The workshop's enterprise client: redeems the ID-JAGs that name it, authenticating with its secret
    (the SDK's `IdentityAssertionOAuthProvider` sends a secret only). Written at every start."""
    clients.save(
        Client(
            client_id=ENTERPRISE_CLIENT_ID,
            client_name="Journal, for the enterprise",
            grant_types=(JWT_BEARER,),
            auth_methods=CONFIDENTIAL,
            secret_hash=hash_password(os.environ.get(ENTERPRISE_SECRET_ENV, ENTERPRISE_SECRET_DEFAULT)),
            allowed_scope="journal:read journal:write",
            application_type="web",
            kind="seeded",
        )
    )
