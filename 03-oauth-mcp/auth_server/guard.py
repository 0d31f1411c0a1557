"""Where this server may turn an attempt away for coming too often: the hooks, and the refusal they raise.

Guessing a password or a client secret is an attempt worth counting. The core calls a `Guard` before
and after each check, and this one lets everything through. The server runs with optional/throttle.py's
`Throttles`, which count attempts in the database and make each one past a few free ones wait longer.
"""

import math

from authlib.oauth2 import OAuth2Error


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


class Guard:
    """Every hook lets the attempt through. Blocking calls (a database): the callers run in worker threads."""

    def before_sign_in(self, username: str, address: str) -> None:
        """A password for `username` from `address` is about to be checked; raise SlowDown to refuse it."""

    def after_sign_in(self, username: str, address: str, succeeded: bool) -> None:
        """The password was checked."""

    def before_client_secret(self, address: str) -> None:
        """A client secret from `address` is about to be checked; raise SlowDown to refuse it."""

    def after_wrong_client_secret(self, address: str) -> None:
        """A client secret from `address` was wrong."""
