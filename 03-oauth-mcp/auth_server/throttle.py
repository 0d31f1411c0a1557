"""Throttling guesses: a few attempts are free, then each one makes the next wait longer, up to a cap.

What is counted, and per what (the keys), is decided where the attempt happens: passwords per
username, existing or not, and per address (signin.py), client secrets per address (oauth.py), registrations per address
(registration.py). This file only keeps the rule, the same for all of them:

- `free` attempts within `window` seconds cost nothing;
- after them, the next attempt must wait 1 s, then 2 s, 4 s, ... but never more than `max_delay`;
- a window without attempts forgets the key (its row is deleted).

A password guess is counted before its hash is checked (`take`), and given back if it was right:
guesses sent all at once cannot all get through before the first failure is counted. A
registration is counted (`take`) as it is stored. A client secret is counted only once it has
failed (`wait`, then `count`): the resource server checks its secret on every introspection, and
two database writes each time would cost more than the few hashes that a burst of wrong secrets
sent at once gets checked (at most one per worker thread).

Why short growing waits and not a lockout: a lockout lets anyone lock an account by failing on
purpose. A wait is at most `max_delay`, so an owner who mistyped is back in seconds, and an
attempt refused while waiting costs no hash, so guessing costs the attacker time and this server
almost nothing. An attacker who keeps guessing one username does keep its owner waiting, with
one guess per `max_delay`: the price of counting per user at all.

The counters live in the database, not in this process: every replica of the server sees the same.
"""

import ipaddress
import math
import time
from dataclasses import dataclass

from authlib.oauth2 import OAuth2Error

from .config import (
    FAILURE_WINDOW,
    FREE_CLIENT_SECRET_FAILURES_PER_ADDRESS,
    FREE_PASSWORD_FAILURES_PER_ADDRESS,
    FREE_PASSWORD_FAILURES_PER_USER,
    REGISTRATION_WINDOW,
    Settings,
)
from .storage import Storage


class SlowDown(OAuth2Error):
    """Too many attempts: HTTP 429 (RFC 6585) with Retry-After, and the OAuth error `slow_down`.

    `slow_down` (RFC 8628 §3.5) says "wait, then ask again"; `invalid_client` would tell a client
    that its credentials are wrong, and some clients then throw them away and register again.
    """

    error = "slow_down"
    status_code = 429

    def __init__(self, retry_after: float, description: str) -> None:
        super().__init__(description=description)
        self.retry_after = max(1, math.ceil(retry_after))

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


@dataclass(frozen=True)
class Throttle:
    storage: Storage
    kind: str  # the keys' prefix: "password-user", "register", ...
    free: int
    window: float
    max_delay: float

    def take(self, subject: str) -> float:
        """Count an attempt before making it: 0 if it may go ahead, else the seconds to wait (nothing counted)."""
        return self.storage.take_attempt(self._key(subject), self.window, self.delay)

    def give_back(self, subject: str) -> None:
        """The attempt taken did not count after all: it succeeded, or was not made."""
        self.storage.give_back_attempt(self._key(subject))

    def forget(self, subject: str) -> None:
        """Start afresh: the owner of the account has just signed in."""
        self.storage.forget_attempts(self._key(subject))

    def wait(self, subject: str) -> float:
        """Seconds until `subject` may try again; 0 if it may now. For attempts counted only when they fail."""
        return max(0.0, self.storage.blocked_until(self._key(subject)) - time.time())

    def count(self, subject: str) -> None:
        """Count an attempt already made, a failure."""
        self.storage.count_attempt(self._key(subject), self.window, self.delay)

    def delay(self, count: int) -> float:
        """How long the attempt after the `count`-th must wait: 0 while free, then 1, 2, 4 ... max_delay."""
        if count < self.free:
            return 0.0
        return min(2.0 ** min(count - self.free, 32), self.max_delay)  # min(..., 32): no float overflow

    def _key(self, subject: str) -> str:
        return f"{self.kind}:{subject}"


@dataclass(frozen=True)
class Throttles:
    """Every throttle of this server, with the numbers from config.py and the command line."""

    password_per_user: Throttle
    password_per_address: Throttle
    client_secret_per_address: Throttle
    registration_per_address: Throttle

    @classmethod
    def create(cls, settings: Settings, storage: Storage) -> "Throttles":
        def throttle(kind: str, free: int, window: float, max_delay: float) -> Throttle:
            return Throttle(storage, kind, free, window, max_delay)

        cap = settings.max_lockout
        return cls(
            password_per_user=throttle("password-user", FREE_PASSWORD_FAILURES_PER_USER, FAILURE_WINDOW, cap),
            password_per_address=throttle("password-address", FREE_PASSWORD_FAILURES_PER_ADDRESS, FAILURE_WINDOW, cap),
            client_secret_per_address=throttle(
                "client-secret-address", FREE_CLIENT_SECRET_FAILURES_PER_ADDRESS, FAILURE_WINDOW, cap
            ),
            # Registrations are counted, not failures; past the limit the wait grows to a whole window.
            registration_per_address=throttle(
                "register", settings.registration_limit, REGISTRATION_WINDOW, REGISTRATION_WINDOW
            ),
        )


def address_key(host: str | None) -> str:
    """What counts as one client address: an IPv4 address, or an IPv6 /64.

    One IPv6 host usually owns a whole /64 (2^64 addresses); counting per address would give it
    a fresh counter for every guess.
    """
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:  # ::ffff:192.0.2.1 is an IPv4 client
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
