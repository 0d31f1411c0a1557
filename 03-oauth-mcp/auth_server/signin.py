"""Signing in with a username and password: slow to check, and throttled against guessing.

Each check is an scrypt hash (~60 ms of CPU), run in a worker thread so other requests keep
flowing. An unknown username is checked against a dummy hash (made at start, so even the first
one costs the same), so "no such user" takes as long as "wrong password", and the page says the
same for both.

Attempts count per username and per client address (throttle.py), before the password is
checked, and neither may be waiting:
- per username: guessing alice's password from many addresses slows down after a few failures;
- per address: trying many usernames (or passwords) from one address slows down too.
Every username submitted is counted, whether or not it exists: counting only real ones made
their sixth failure a 429 and a made-up name's never, which told anyone which names exist. So a
made-up name adds a row, kept as a digest (what is typed as a username is sometimes a password);
how many rows one address can add is what the per-address throttle allows.
A success clears the user's count, and gives back the address's one attempt without clearing
its count (an attacker with an account of their own could otherwise sign in between guesses to
start afresh).
"""

import secrets

from .models import User
from .passwords import hash_password, verify_password
from .storage import Storage, digest
from .throttle import SlowDown, Throttles, address_key


class PasswordSignIn:
    def __init__(self, storage: Storage, throttles: Throttles) -> None:
        self.storage = storage
        self.per_user, self.per_address = throttles.password_per_user, throttles.password_per_address
        # Checked against for unknown usernames, so "no such user" takes as long as "wrong password".
        self.dummy_hash = hash_password(secrets.token_urlsafe(16))

    def check(self, username: str, password: str, address: str) -> User | None:
        """The user, or None for a wrong username or password. Blocking: call it in a worker thread.

        Raises SlowDown while this username or address must wait, without checking anything. The
        same for every username: whether it exists shows in neither the answer nor its timing.
        """
        address, name = address_key(address), digest(username)
        if wait := self.per_address.take(address):
            raise SlowDown(wait, "Too many failed sign-ins from this address")
        if wait := self.per_user.take(name):
            self.per_address.give_back(address)  # this attempt is not made
            raise SlowDown(wait, "Too many failed sign-ins for this username")
        stored = self.storage.get_password_hash(username)
        if verify_password(password, stored or self.dummy_hash) and stored:
            self.per_user.forget(name)
            self.per_address.give_back(address)
            return User(username)
        return None
