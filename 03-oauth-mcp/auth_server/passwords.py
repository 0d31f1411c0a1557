"""Salted, slow password hashes from the standard library: what the db keeps instead of a password or secret.

scrypt is memory-hard, so guessing offline from a stolen db costs real hardware per guess.
The stored form is self-describing, `scrypt$n$r$p$salt$hash`, so the cost can be raised later.
"""

import base64
import hashlib
import hmac
import os

N, R, P = 2**14, 8, 1  # ~60 ms and 16 MiB per hash on a laptop


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(_unb64(digest))
        )
    except (ValueError, TypeError):
        return False
    # Constant time, so response timing does not reveal how much of the hash matched.
    return hmac.compare_digest(candidate, _unb64(digest))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
