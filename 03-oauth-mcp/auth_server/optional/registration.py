"""Optional: Dynamic Client Registration (RFC 7591) at POST /register, and the redirect-URI policy every client meets.

MCP 2026-07-28 deprecates DCR in favour of Client ID Metadata Documents (cimd.py); it stays for
clients that predate them, and the SDK still falls back to it (the lesson's client registers
here unless it is given a metadata document or a pre-registered id). The endpoint is open: anyone
may register, which is why what a registration can ask for is narrow (see the overrides), how big
it may be is bounded, and how often one address may register is throttled (throttle.py).
"""

import json
import re
import secrets
import time
from typing import Any, ClassVar
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import JsonPayload, JsonRequest
from authlib.oauth2.rfc7591 import ClientMetadataClaims, ClientRegistrationEndpoint
from authlib.oauth2.rfc7591.errors import InvalidClientMetadataError, InvalidRedirectURIError
from joserfc.errors import InvalidClaimError
from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config
from starlette.datastructures import Headers
from starlette.requests import Request
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only from Python 3.12

from ...addresses import is_loopback
from ...bounded_json import JsonOutOfBounds, parse_json
from ..adapter import client_address
from ..models import PUBLIC, Client
from ..passwords import hash_password
from ..storage.clients import ClientStore
from .body_limit import MAX_BODY_BYTES
from .client_keys import KeySetProblem, public_key_set
from .enterprise import JWT_BEARER
from .throttle import Throttles

# Grants a client may ask for without a user: none. client_credentials would let anyone who can
# reach /register mint tokens; machine clients are provisioned (the seeded journal-bot, add_client.py).
# The JWT bearer grant (enterprise.py) grants nothing by itself: it redeems ID-JAGs that a trusted
# identity provider issued for this very client_id. It is registrable where the server offers it.
USER_GRANT_TYPES = {"authorization_code", "refresh_token"}
REGISTRABLE_GRANT_TYPES = USER_GRANT_TYPES | {JWT_BEARER}
# RFC 7591 §2 says omitted grant_types means authorization_code only; refreshing is this lesson's
# point, so an omission gets both (the SDK sends both anyway).
DEFAULT_GRANT_TYPES = ("authorization_code", "refresh_token")

# Sizes: a registration is stored and shown to users, so each part of it is bounded.
MAX_CLIENT_NAME = 100  # characters
MAX_URI = 2000  # characters, the length browsers and proxies reliably carry
MAX_REDIRECT_URIS = 10
MAX_METADATA_BYTES = 8 * 1024  # everything registered, as JSON

# The characters RFC 3986 §2 allows in a URI: unreserved, reserved and "%" for escapes. No
# space, no quote, no control character: a NUL or CR LF in a Location header breaks the
# redirect (or the HTTP response itself) that carries the authorization code.
URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def redirect_uri_problem(uri: str, application_type: str = "native") -> str | None:
    """Why a redirect URI is unacceptable, or None. MCP: "localhost or HTTPS"; OIDC application_type rules."""
    if len(uri) > MAX_URI:
        return f"is longer than {MAX_URI} characters"
    if not URI_CHARACTERS.fullmatch(uri):
        return "contains characters a URI cannot hold unencoded"  # RFC 3986 §2
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "is not a URL"
    if parts.fragment or "#" in uri:
        return "has a fragment"  # RFC 6749 §3.1.2
    if parts.username or parts.password:
        return "has user information"
    if not parts.hostname:
        return "has no host"
    if parts.scheme == "https":
        return None
    if parts.scheme != "http":
        return "is neither https nor loopback http"  # custom schemes are not allowed by MCP
    if application_type == "web":
        return "is http: web clients must use https"  # OIDC Registration, application_type
    if not is_loopback(parts.hostname):
        return "is http but not loopback (127.0.0.1, [::1] or localhost)"
    return None


def jwks_uri_problem(uri: str) -> str | None:
    """Why a jwks_uri cannot be registered, or None. Where it leads is checked at each fetch (client_keys.py)."""
    if len(uri) > MAX_URI:
        return f"is longer than {MAX_URI} characters"
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment or parts.username:
        return "is not an http(s) URL with a host, without fragment or user information"
    return None


def client_name_problem(name: str) -> str | None:
    """Why a client name cannot be shown on the consent page, or None."""
    if len(name) > MAX_CLIENT_NAME:
        return f"is longer than {MAX_CLIENT_NAME} characters"
    # isprintable() is False for control characters (a CR LF to forge a log line) and for format
    # characters such as U+202E RIGHT-TO-LEFT OVERRIDE, which shows "Notes\u202egpj.exe" as "Notesexe.jpg".
    if not name.isprintable():
        return "contains control or formatting characters"
    return None


@with_config(ConfigDict(strict=True))
class ClientMetadataShape(TypedDict, total=False):
    """The JSON type of each claim Authlib reads (RFC 7591 §2, OIDC Registration for application_type).

    Authlib assumes each claim has the type the RFC gives it: `set()` of a list of lists, `in` on a
    number, are TypeErrors (a 500). So the shape is checked before it looks. Members not named here
    are not registered, and Authlib never reads them.
    """

    redirect_uris: list[str]
    token_endpoint_auth_method: str
    grant_types: list[str]
    response_types: list[str]
    client_name: str
    client_uri: str
    logo_uri: str
    scope: str
    contacts: list[str]
    tos_uri: str
    policy_uri: str
    software_id: str
    software_version: str
    application_type: str
    jwks: dict[str, Any]  # its members are checked by client_keys.py
    jwks_uri: str


client_metadata_shape = TypeAdapter(ClientMetadataShape)


def shape_problem(metadata: dict[str, Any]) -> str | None:
    """The first claim of the wrong JSON type, or None."""
    try:
        client_metadata_shape.validate_python(metadata)
    except ValidationError as error:
        return str(error.errors()[0]["loc"][0])  # a claim ClientMetadataShape names, never the sender's text
    return None


class McpClientMetadataClaims(ClientMetadataClaims):
    """RFC 7591 metadata plus OIDC's `application_type`, which MCP clients MUST send (SEP-837)."""

    REGISTERED_CLAIMS: ClassVar[list[str]] = [*ClientMetadataClaims.REGISTERED_CLAIMS, "application_type"]

    def validate(self, now: Any = None, leeway: int = 0) -> None:
        if claim := shape_problem(dict(self)):
            error = InvalidRedirectURIError if claim == "redirect_uris" else InvalidClientMetadataError
            raise error(f"{claim} has the wrong JSON type")
        # OIDC's default is "web"; the MCP SDK registers loopback redirect URIs, so "native".
        self.setdefault("application_type", "native")
        if self["application_type"] not in ("native", "web"):
            raise InvalidClaimError("application_type")
        self.setdefault("grant_types", list(DEFAULT_GRANT_TYPES))
        if self.get("token_endpoint_auth_method") == "private_key_jwt" and self["grant_types"] != [JWT_BEARER]:
            # The code and refresh grants (the core's) take a secret or none, as the SDK's user clients send.
            raise InvalidClientMetadataError("private_key_jwt is for the JWT bearer grant only")
        super().validate(now, leeway)
        if len(json.dumps(self.get_registered_claims())) > MAX_METADATA_BYTES:
            raise InvalidClientMetadataError(f"The registration is larger than {MAX_METADATA_BYTES} bytes")

    def validate_redirect_uris(self) -> None:
        uris = self.get("redirect_uris")
        if not uris and self["grant_types"] == [JWT_BEARER]:
            return  # no redirect: the client brings its grant to /token
        if not uris:  # if present, an array of strings (ClientMetadataShape)
            raise InvalidRedirectURIError("redirect_uris must be a non-empty array of strings")
        if len(uris) > MAX_REDIRECT_URIS:
            raise InvalidRedirectURIError(f"At most {MAX_REDIRECT_URIS} redirect_uris")
        for index, uri in enumerate(uris):
            if problem := redirect_uri_problem(uri, self["application_type"]):
                # RFC 7591 §3.2.2 names this error; Authlib would report invalid_client_metadata.
                # (The URI itself is not echoed: error_description allows only plain ASCII.)
                raise InvalidRedirectURIError(f"redirect_uris[{index}] {problem}")

    def validate_jwks_uri(self) -> None:
        # Override, with validate_jwks: a client's keys are taken only for what this server uses them
        # for, checking a private_key_jwt assertion (private_key_jwt.py), and only after client_keys.py
        # has checked them: a key set is the most intricate JSON a registration can carry, and Authlib
        # hands it to joserfc, which raises TypeError or KeyError (a 500) for some ({"keys": 5}, an
        # unknown curve). Anything else is refused, as RFC 7591 §3.2.2 allows.
        has_keys = ("jwks" in self) + ("jwks_uri" in self)
        if self["token_endpoint_auth_method"] != "private_key_jwt":  # noqa: S105 -- a method's name
            if has_keys:
                raise InvalidClientMetadataError("jwks and jwks_uri are for token_endpoint_auth_method private_key_jwt")
            return
        if has_keys != 1:
            raise InvalidClientMetadataError("private_key_jwt needs the client's public keys: jwks or jwks_uri")
        if "jwks_uri" in self and (problem := jwks_uri_problem(self["jwks_uri"])):
            raise InvalidClientMetadataError(f"jwks_uri {problem}")

    def validate_jwks(self) -> None:
        if "jwks" in self:
            try:
                public_key_set(self["jwks"])
            except KeySetProblem as problem:
                raise InvalidClientMetadataError(f"jwks: {problem}") from None

    def validate_client_name(self) -> None:
        if "client_name" in self and (problem := client_name_problem(self["client_name"])):
            raise InvalidClientMetadataError(f"client_name {problem}")

    def validate_grant_types(self) -> None:
        grant_types = self.get("grant_types")
        if grant_types == [JWT_BEARER]:
            return  # offered only with --trusted-idp: Authlib checks grant_types_supported
        if not isinstance(grant_types, list) or not set(grant_types) <= USER_GRANT_TYPES:
            raise InvalidClientMetadataError(
                "grant_types may be authorization_code and refresh_token, or the JWT bearer grant alone"
            )


class ClientRegistration(ClientRegistrationEndpoint):
    def __init__(self, clients: ClientStore, metadata: dict[str, Any], throttles: Throttles) -> None:
        super().__init__(claims_classes=[McpClientMetadataClaims])
        self.clients, self.metadata, self.throttles = clients, metadata, throttles

    def authenticate_token(self, request: Any) -> bool:
        return True  # open registration: anyone may register, within the limits above

    def get_server_metadata(self) -> dict[str, Any]:
        # Authlib checks token_endpoint_auth_method, grant_types, response_types and scope against it.
        return self.metadata

    def generate_client_id(self, request: Any) -> str:
        return secrets.token_urlsafe(16)

    def generate_client_secret(self, request: Any) -> str | None:
        # Override: Authlib mints a secret for every client, public ones included. A public
        # client (token_endpoint_auth_method "none") cannot keep one, and one that signs with its
        # own key (private_key_jwt) has no use for one, so neither gets a secret.
        method = request.payload.data.get("token_endpoint_auth_method", "client_secret_basic")
        return None if method in ("none", "private_key_jwt") else secrets.token_urlsafe(32)

    def generate_client_info(self, request: Any) -> dict[str, Any]:
        info = super().generate_client_info(request)
        if info["client_secret"] is None:
            del info["client_secret"], info["client_secret_expires_at"]
        return info

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any], request: Any) -> Client:
        # Counted here, once the metadata has passed every check: a refused registration stores
        # nothing, and costs no database write either.
        self.throttles.before_registration(request.address)
        method = client_metadata["token_endpoint_auth_method"]
        client = Client(
            client_id=client_info["client_id"],
            client_name=client_metadata.get("client_name") or client_info["client_id"],
            redirect_uris=tuple(client_metadata.get("redirect_uris", ())),
            grant_types=tuple(client_metadata["grant_types"]),
            auth_methods=PUBLIC if method == "none" else frozenset({method}),
            secret_hash=hash_password(client_info["client_secret"]) if "client_secret" in client_info else None,
            application_type=client_metadata["application_type"],
            kind="registered",
            metadata={
                **client_metadata,
                "client_id_issued_at": client_info.get("client_id_issued_at", int(time.time())),
            },
        )
        self.clients.save(client)
        return client


class StarletteJsonPayload(JsonPayload):
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    @property
    def data(self) -> dict[str, Any]:
        return self._data


class StarletteJsonRequest(JsonRequest):
    def __init__(self, method: str, uri: str, headers: Headers, data: dict[str, Any], address: str) -> None:
        super().__init__(method, uri, headers)
        self.payload = StarletteJsonPayload(data)
        self.address = address


async def json_request(request: Request, issuer: str) -> StarletteJsonRequest:
    """A /register request for Authlib (as the core's adapter.py wraps forms): its JSON body, within bounds."""
    try:
        data = parse_json(await request.body(), MAX_BODY_BYTES)  # bounded: [[[[... 30,000 deep is refused
    except JsonOutOfBounds:
        data = None
    # Authlib answers an empty payload with invalid_request; anything but an object counts as empty.
    payload = data if isinstance(data, dict) else {}
    uri = issuer + request.url.path
    return StarletteJsonRequest(request.method, uri, request.headers, payload, client_address(request))
