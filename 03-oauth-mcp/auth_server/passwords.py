"""Salted, slow password hashes from the standard library: what the db keeps instead of a password or secret.

scrypt is memory-hard, so guessing offline from a stolen db costs real hardware per guess.
The stored form is self-describing, `scrypt$n$r$p$salt$hash`, so the cost can be raised later.
"""

import base64
import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict

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


class RecentlyVerified:
    """Secrets that matched their stored hash a moment ago: the same secret against the same hash is then
    checked with one HMAC, not one scrypt.

    scrypt's cost guards a stolen db against guessing, but it is paid at every check too. A resource
    server authenticates on every introspection, so each made-up token sent to it cost one scrypt here,
    ~50 ms of this server's CPU. Only matches are kept, and never the secret: a digest of the stored hash
    and the secret, keyed by a random value of this process. A wrong secret, or the old one once the hash
    has changed, still takes the slow path (and the throttle on failures). An entry lasts `seconds`; past
    `max_entries`, the least recently used goes first. Safe across the worker threads Authlib runs in.
    """

    def __init__(self, seconds: float, max_entries: int) -> None:
        self.seconds, self.max_entries = seconds, max_entries
        self._key = os.urandom(32)
        self._until: OrderedDict[bytes, float] = OrderedDict()  # digest -> when it must be checked again
        self._lock = threading.Lock()

    def verify(self, secret: str, stored: str) -> bool:
        digest = hmac.digest(self._key, f"{stored}\n{secret}".encode(errors="surrogatepass"), "sha256")
        with self._lock:
            if self._until.get(digest, 0.0) > time.monotonic():
                self._until.move_to_end(digest)
                return True
        if not verify_password(secret, stored):  # outside the lock: other checks need not wait for it
            return False
        with self._lock:
            self._until[digest] = time.monotonic() + self.seconds
            self._until.move_to_end(digest)
            while len(self._until) > self.max_entries:
                self._until.popitem(last=False)
        return True


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
