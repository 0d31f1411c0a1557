"""The machine's private key, for `private_key_jwt`: read only from a file that is its owner's alone.

The key is the machine's credential, as a secret would be: whoever reads it can sign as the machine
for as long as the authorization server trusts its public half. So the file is refused, as the
client's token file is (client_extras/private_file.py), unless it is a regular file (not a symlink)
owned by this user with no access for anyone else (mode 0600 or 0400).

Either form a key comes in is accepted: a private JWK (what `python -m 03-oauth-mcp.machine_client.new_key`
writes) or a PEM (what `openssl genpkey` writes). The algorithm follows from the key: ES256 for an
EC P-256 key, RS256 for RSA of 2,048 bits or more. The SDK's `SignedJWTParameters` signs with a PEM,
so a JWK is converted to one, in memory.
"""

import os
import stat
from pathlib import Path

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from ..bounded_json import JsonOutOfBounds, parse_json

MAX_KEY_FILE_BYTES = 64 * 1024


class UnusableKey(Exception):
    """The key file is not one to sign with: not ours alone, or not a private EC P-256 or RSA key."""


def read_private_file(path: Path) -> bytes:
    """The bytes of `path`, if it is a regular file owned by this user that nobody else may read."""
    try:
        # O_NOFOLLOW: a symlink planted where the key should be is an error, not a redirection.
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        raise UnusableKey(f"{path}: cannot open it ({error.strerror})") from None
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise UnusableKey(f"{path}: a private key must be a file owned by you with mode 0600")
        return file.read(MAX_KEY_FILE_BYTES + 1)


def load_signing_key(path: Path) -> tuple[str, str]:
    """(the private key as PEM, the algorithm to sign with) from an owner-only JWK or PEM file."""
    data = read_private_file(path)
    try:
        if data.lstrip().startswith(b"{"):
            jwk = parse_json(data, MAX_KEY_FILE_BYTES)
            kind = {"EC": ECKey, "RSA": RSAKey}.get(jwk.get("kty") if isinstance(jwk, dict) else None)
            if kind is None:
                raise UnusableKey(f"{path}: not an EC or RSA JWK")
            key: ECKey | RSAKey = kind.import_key(jwk)
        else:
            key = _import_pem(data)
    except (JsonOutOfBounds, JoseError, ValueError, TypeError, KeyError):
        raise UnusableKey(f"{path}: not a private key in JWK or PEM form") from None
    if not key.is_private:
        raise UnusableKey(f"{path}: holds a public key; the machine signs with its private key")
    if isinstance(key, ECKey):
        if key.curve_name != "P-256":
            raise UnusableKey(f"{path}: an EC key must be on the P-256 curve (ES256)")
        algorithm = "ES256"
    else:
        if key.raw_value.key_size < 2048:
            raise UnusableKey(f"{path}: an RSA key must have 2,048 bits or more (RS256)")
        algorithm = "RS256"
    return key.as_pem(private=True).decode(), algorithm


def _import_pem(data: bytes) -> ECKey | RSAKey:
    for kind in (ECKey, RSAKey):
        try:
            return kind.import_key(data)
        except (JoseError, ValueError, TypeError):
            continue
    raise ValueError("neither an EC nor an RSA key")
