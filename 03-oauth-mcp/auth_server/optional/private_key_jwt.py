"""Optional: `private_key_jwt` (RFC 7523 §2.2): a client proves who it is with an assertion signed by its own key.

No shared secret: the client keeps a private key, this server knows the public half (registered as
`jwks` or `jwks_uri`, client_keys.py), and each token request carries a fresh signed JWT:

    client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
    client_assertion=<JWT: iss = sub = the client id, aud = this server, exp, jti>

The SDK's `PrivateKeyJWTOAuthProvider` sends exactly that (`python -m 03-oauth-mcp.machine_client
--client-key`). Authlib's `JWTBearerClientAssertion` verifies it: the signature, `iss` = `sub` (the
client), `aud`, `exp`, a `jti` present. What it leaves to the application, and what this adds:

| Authlib leaves                         | here                                                        |
|----------------------------------------|-------------------------------------------------------------|
| the method's name, `client_assertion_jwt` | `private_key_jwt`, the name clients register and metadata lists |
| the audiences                          | the issuer (as the SDK and RFC 7523bis send it) and /token  |
| whatever algorithm joserfc recommends (HS256 too) | ES256 and RS256 only: an explicit allow-list       |
| remembering `jti` (it stores nothing)  | each accepted once, until it expires, in the database (used_assertions.py) |
| any lifetime                           | an assertion may not live longer than ten minutes          |
| `client_id` in the form, unchecked     | if sent, it must be the assertion's `sub`                   |

Every refusal is `invalid_client`, as RFC 6749 §5.2 says for a failed client authentication.
"""

import logging
import time
from typing import Any, ClassVar

import anyio.from_thread
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ...bounded_json import JsonOutOfBounds, parse_json
from ..config import Settings
from ..models import Client
from .cimd import MAX_DOCUMENT_BYTES, MetadataDocumentError, MetadataDocuments
from .client_keys import ALGORITHMS, KeySetProblem, public_key_set
from .used_assertions import UsedAssertions

LEEWAY = 30  # seconds of clock skew allowed on exp (Authlib's default is 60)
MAX_LIFETIME = 600  # an assertion further from expiring than this is refused: it is meant to be minted per request
MAX_JTI = 200  # characters
MAX_CACHE_SECONDS = 300  # a fetched key set is kept for its max-age, at most this
MAX_CACHED_KEY_SETS = 1000  # anyone who can register can name a jwks_uri: the cache must not grow with them

logger = logging.getLogger(__name__)

# The metadata members that announce it (RFC 8414; the MCP client-credentials extension says MUST).
METADATA: dict[str, Any] = {
    "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"],
    "token_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
}


class ClientKeySets:
    """The public keys of a client: its registered `jwks`, or the set at its `jwks_uri`, fetched and kept."""

    def __init__(self, fence: MetadataDocuments) -> None:
        self.fence = fence
        self._cache: dict[str, tuple[KeySet, float]] = {}  # jwks_uri -> (keys, fresh until), oldest first

    def of(self, client: Client) -> KeySet:
        """The client's public keys; KeySetProblem if it has none usable.

        Called by Authlib in a worker thread: a fetch runs on the event loop (anyio.from_thread).
        """
        if "jwks" in client.metadata:
            return public_key_set(client.metadata["jwks"])
        uri = client.metadata.get("jwks_uri")
        if not isinstance(uri, str):
            raise KeySetProblem("the client registered no keys")
        cached = self._cache.get(uri)
        if cached is not None and time.monotonic() < cached[1]:
            return cached[0]
        return anyio.from_thread.run(self._fetch, uri)

    async def _fetch(self, uri: str) -> KeySet:
        try:
            body, max_age = await self.fence.fetch(uri)
            keys = public_key_set(parse_json(body, MAX_DOCUMENT_BYTES))
        except MetadataDocumentError as error:
            logger.warning("could not fetch the key set at %s: %s", uri, error.detail)
            raise KeySetProblem("the client's jwks_uri could not be fetched from a public address") from None
        except JsonOutOfBounds:
            raise KeySetProblem("the client's jwks_uri is not JSON within bounds") from None
        while len(self._cache) >= MAX_CACHED_KEY_SETS:
            del self._cache[next(iter(self._cache))]  # the oldest entry makes room
        self._cache.pop(uri, None)
        self._cache[uri] = keys, time.monotonic() + min(max_age, MAX_CACHE_SECONDS)
        logger.info("fetched the key set at %s (%d keys)", uri, len(keys.keys))
        return keys


class PrivateKeyJWT(JWTBearerClientAssertion):
    """Authlib's client assertion check, with the choices above. Register it as "private_key_jwt"."""

    CLIENT_AUTH_METHOD: ClassVar[str] = "private_key_jwt"  # Authlib's default name is "client_assertion_jwt"

    def __init__(self, settings: Settings, key_sets: ClientKeySets, used: UsedAssertions) -> None:
        super().__init__(validate_jti=True, leeway=LEEWAY)
        self.settings, self.key_sets, self.used = settings, key_sets, used

    def __call__(self, query_client: Any, request: Any) -> Client | None:
        client = super().__call__(query_client, request)
        if client is not None and request.form.get("client_id") not in (None, client.client_id):
            raise InvalidClientError(description="client_id is not the assertion's subject")
        return client

    def get_audiences(self) -> list[str]:
        # The issuer, with and without the slash a URL type may add (the SDK's pydantic does), and the
        # token endpoint, which RFC 7523 §3 and older clients use.
        issuer = self.settings.issuer
        return [issuer, f"{issuer}/", self.settings.endpoint("/token")]

    def resolve_client_public_key(self, client: Client) -> KeySet:
        try:
            return self.key_sets.of(client)
        except KeySetProblem as problem:
            logger.warning("refused a client assertion from %s: %s", client.client_id, problem)
            raise InvalidClientError(description=f"The client's keys cannot be used: {problem}") from None

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        # Override: Authlib's decode takes any algorithm joserfc recommends; only ours are allowed.
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ALGORITHMS)
        except (JoseError, ValueError, TypeError, KeyError):  # joserfc raises TypeError for some headers (crit: 5)
            raise InvalidClientError(description="The client assertion's signature did not verify") from None
        self.verify_claims(token.claims)
        return token.claims

    def validate_jti(self, claims: dict[str, Any], jti: Any) -> bool:
        # Authlib calls this last, once signature, iss = sub, aud and exp have passed: only an
        # assertion the client really signed is worth a row.
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI:
            raise InvalidClientError(description="The assertion's jti must be a string")
        if claims["exp"] > time.time() + MAX_LIFETIME:
            raise InvalidClientError(description=f"The assertion must expire within {MAX_LIFETIME} s")
        if not self.used.first_use("client assertion", claims["iss"], jti, int(claims["exp"]) + LEEWAY):
            logger.warning("refused a replayed client assertion from %s (jti %s)", claims["sub"], jti)
            return False  # Authlib: invalid_client, "JWT ID is used before."
        return True
