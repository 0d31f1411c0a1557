"""The JSON the MCP server reads from its issuer and from the upstream, read as one reads a stranger's.

Skip on a first read. The MCP server reads JSON from its authorization server (the metadata, the
keys, token-exchange answers: server/issuer.py, server/exchange.py; introspection answers:
production/) and from the upstream API (server/app.py). A hostile or broken server must not crash
it, stall it, or fill its memory: `response.json()` reads any size, recurses until RecursionError
(a 500 at the gate), and hands back whatever type the server chose, where `.get` on a list raises
again. So every answer goes through `read_answer` (or `get_answer`, which GETs it first): at most
MAX_ANSWER_BYTES read (bounded_json.py, which the authorization server uses too), then a pydantic
model of the members this server reads, each of its type. Anything else is one exception,
`UnreadableAnswer`, which each caller turns into its refusal: an invalid token (401), or a tool error.
"""

import logging
from typing import Any, TypeVar

import httpx2
import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..bounded_json import JsonOutOfBounds, read_json

# The largest answer read: a metadata document is a few KB, a key set with certificate chains some
# tens, an introspection or token answer one or two.
MAX_ANSWER_BYTES = 256 * 1024

Shape = TypeVar("Shape", bound=BaseModel)

logger = logging.getLogger(__name__)


class UnreadableAnswer(Exception):
    """Not JSON, beyond a bound, or not of the shape expected; `str(error)` names which, never the answer."""


async def read_answer(response: httpx2.Response, shape: type[Shape]) -> Shape:
    """The JSON answer of a streamed `response` as `shape`; UnreadableAnswer if it is not one."""
    try:
        return shape.model_validate(await read_json(response, MAX_ANSWER_BYTES))
    except JsonOutOfBounds as problem:
        raise UnreadableAnswer(f"not JSON within bounds: {problem}") from None
    except ValidationError as error:
        # Where and what, not the value: it is the other server's text.
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        raise UnreadableAnswer(f"not the JSON expected: {where}: {first['msg']}") from None


async def get_answer(http: httpx2.AsyncClient, url: str, shape: type[Shape], **request: Any) -> Shape:
    """GET `url` (with `request`'s params and headers) and read its JSON answer as `shape`: UnreadableAnswer
    for an answer that is not a success, or not one of that shape; httpx2.HTTPError for none at all."""
    headers = {"Accept": "application/json", **request.pop("headers", {})}
    async with http.stream("GET", url, headers=headers, **request) as response:
        if not response.is_success:
            raise UnreadableAnswer(f"{response.status_code} {response.reason_phrase}")
        return await read_answer(response, shape)


class MetadataShape(BaseModel):
    """The members of the metadata this server reads, of the types RFC 8414 §2 gives them. The others
    are kept as sent: `advertised_algorithms` (algorithms.py) checks the type of each list it reads."""

    model_config = ConfigDict(extra="allow", strict=True)
    issuer: str
    jwks_uri: str | None = None
    token_endpoint: str | None = None
    introspection_endpoint: str | None = None


class KeySet(BaseModel):
    """A JWK Set (RFC 7517 §5): its keys, each checked on its own (`signing_keys`)."""

    model_config = ConfigDict(strict=True)
    keys: list[Any]


class SigningKeyShape(BaseModel):
    """What PyJWK reads of a key (RFC 7517 §4, RFC 7518 §6): strings, each, where present."""

    model_config = ConfigDict(extra="allow", strict=True)
    kid: str
    kty: str
    use: str = "sig"
    alg: str | None = None
    crv: str | None = None
    x: str | None = None
    y: str | None = None
    n: str | None = None
    e: str | None = None


def signing_keys(keyset: KeySet) -> dict[str, jwt.PyJWK]:
    """The keys of a key set that can check a signature, by kid. The others are skipped, as RFC 7517 §5
    says: keys without a kid, encryption keys, keys of the wrong shape, keys PyJWK cannot read."""
    keys: dict[str, jwt.PyJWK] = {}
    for member in keyset.keys:
        try:
            key = SigningKeyShape.model_validate(member)
            if key.use == "sig":
                keys[key.kid] = jwt.PyJWK(member)  # with the key's own "alg", if it names one
        # PyJWK raises more than its own errors on a key of the right types but the wrong content:
        # KeyError for a missing member, NotImplementedError for "alg": "none".
        except (ValidationError, jwt.PyJWTError, KeyError, NotImplementedError) as error:
            logger.info("skipped a key of the issuer's: %s", type(error).__name__)
    return keys


class TokenAnswer(BaseModel):
    """A token response (RFC 8693 §2.2.1) or an error response (RFC 6749 §5.2): the members read here.
    The error code is quoted in the tool's error, so it must be what §5.2 allows: a short printable code."""

    model_config = ConfigDict(strict=True)
    access_token: str | None = None
    error: str | None = Field(default=None, pattern=r"^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$")
