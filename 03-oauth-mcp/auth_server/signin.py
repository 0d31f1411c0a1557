"""Signing in with a username and password: slow to check, and throttled against guessing.

Each check is an scrypt hash (~60 ms of CPU), run in a worker thread so other requests keep
flowing. An unknown username is checked against a dummy hash, so "no such user" takes as long
as "wrong password", and the page says the same for both.

Attempts count per username and per client address (throttle.py), before the password is
checked, and neither may be waiting:
- per username: guessing alice's password from many addresses slows down after a few failures;
- per address: trying many usernames (or passwords) from one address slows down too.
Only usernames that exist get a count of their own: made-up ones would each add a row.
A success clears the user's count, and gives back the address's one attempt without clearing
its count (an attacker with an account of their own could otherwise sign in between guesses to
start afresh).
"""

import functools
import secrets

from .models import User
from .passwords import hash_password, verify_password
from .storage import Storage
from .throttle import SlowDown, Throttles, address_key


@functools.cache
def dummy_hash() -> str:
    """Checked against for unknown usernames, so "no such user" takes as long as "wrong password"."""
    return hash_password(secrets.token_urlsafe(16))


class PasswordSignIn:
    def __init__(self, storage: Storage, throttles: Throttles) -> None:
        self.storage = storage
        self.per_user, self.per_address = throttles.password_per_user, throttles.password_per_address

    def check(self, username: str, password: str, address: str) -> User | None:
        """The user, or None for a wrong username or password. Blocking: call it in a worker thread.

        Raises SlowDown while this username or address must wait, without checking anything.
        """
        address = address_key(address)
        stored = self.storage.get_password_hash(username)
        if wait := self.per_address.take(address):
            raise SlowDown(wait, "Too many failed sign-ins from this address")
        if stored and (wait := self.per_user.take(username)):
            self.per_address.give_back(address)  # this attempt is not made
            raise SlowDown(wait, "Too many failed sign-ins for this user")
        if verify_password(password, stored or dummy_hash()) and stored:
            self.per_user.forget(username)
            self.per_address.give_back(address)
            return User(username)
        return None
