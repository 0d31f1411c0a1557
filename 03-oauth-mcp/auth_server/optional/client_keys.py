"""Optional: a client's public keys (`jwks`, or the set at its `jwks_uri`), checked before anything reads them.

A client that authenticates with `private_key_jwt` (private_key_jwt.py) registers its public keys:
inline, as `jwks`, or as a `jwks_uri` this server fetches. Both come from the client, so both are
hostile input until checked:

- the shape, before joserfc reads it (a key set is the most intricate JSON a client can send, and
  joserfc raises TypeError or KeyError, a 500, for some, such as `{"keys": 5}` or an unknown curve);
- public keys only: a registration holding a private key (`d`) is refused, the client leaked it;
- signing keys this server verifies, and only those: EC P-256 (ES256) or RSA of 2,048 to 4,096 bits
  (RS256), at most five, each named by a distinct `kid` when there is more than one;
- a `jwks_uri` is fetched like a client's metadata document, behind the same fence
  (private_key_jwt.py `ClientKeySets`); an identity provider's keys are checked here too (enterprise.py).
"""

from typing import Any, Literal

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

ALGORITHMS = ["ES256", "RS256"]  # what a client may sign its assertions with: an explicit allow-list
MAX_KEYS = 5
RSA_BITS = range(2048, 4097)
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}  # RFC 7518 §6: what only the key's owner holds


class KeySetProblem(Exception):
    """Why a client's key set cannot be used; the text names no key material and no sender's text."""


class PublicJwkShape(BaseModel):
    """One JWK, the members this server reads, each of its JSON type (strict: no conversions)."""

    model_config = ConfigDict(strict=True, extra="allow")

    kty: Literal["EC", "RSA"]
    kid: str | None = Field(default=None, max_length=200)
    use: Literal["sig"] | None = None
    alg: Literal["ES256", "RS256"] | None = None
    crv: Literal["P-256"] | None = None
    x: str | None = Field(default=None, max_length=100)
    y: str | None = Field(default=None, max_length=100)
    n: str | None = Field(default=None, max_length=1000)  # 4,096 bits in base64url: 683 characters
    e: str | None = Field(default=None, max_length=20)


class KeySetShape(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")

    keys: list[PublicJwkShape] = Field(min_length=1, max_length=50)  # and at most max_keys: public_key_set


def public_key_set(jwks: Any, max_keys: int = MAX_KEYS) -> KeySet:
    """The key set a client registered (or an identity provider published), checked as the module docstring
    says; else KeySetProblem."""
    try:
        shape = KeySetShape.model_validate(jwks)
    except ValidationError as error:
        where = ".".join(str(part) for part in error.errors()[0]["loc"])
        problem = f"the key set is not a set of EC P-256 or RSA signing keys (at {where or 'the top'})"
        raise KeySetProblem(problem) from None
    raw_keys = jwks["keys"]
    if len(raw_keys) > max_keys:
        raise KeySetProblem(f"the key set has more than {max_keys} keys")
    if any(PRIVATE_MEMBERS & set(key) for key in raw_keys):
        raise KeySetProblem("the key set holds a private key: register public keys only")
    kids = [key.kid for key in shape.keys]
    if len(kids) > 1 and (None in kids or len(set(kids)) != len(kids)):
        raise KeySetProblem("several keys need a distinct kid each")
    keys = []
    for raw in raw_keys:
        members = {name: raw[name] for name in PublicJwkShape.model_fields if name in raw}
        try:
            key = ECKey.import_key(members) if raw["kty"] == "EC" else RSAKey.import_key(members)
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise KeySetProblem(f"a key cannot be read ({type(error).__name__})") from None
        if isinstance(key, RSAKey) and key.raw_value.key_size not in RSA_BITS:
            raise KeySetProblem("an RSA key must have 2,048 to 4,096 bits")
        keys.append(key)
    return KeySet(keys)
