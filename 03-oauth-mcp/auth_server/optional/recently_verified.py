"""Optional: client secrets that matched a moment ago, checked again with one HMAC instead of one scrypt.

For an MCP server that introspects (optional/introspection.py) or exchanges tokens: it authenticates
with its secret on every call, and each check was an scrypt hash (passwords.py), ~50 ms of this
server's CPU, for every made-up token an attacker sends the MCP server. Plugged in as the client
store's `verify_secret` (clients.py).
"""

import hmac
import os
import threading
import time
from collections import OrderedDict

from ..passwords import verify_password

# A client secret that matched is checked again with an HMAC, not an scrypt, for this long; this
# many such secrets at most.
RIGHT_SECRET_MEMORY_SECONDS = 300
RIGHT_SECRET_MEMORY_ENTRIES = 1024


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
