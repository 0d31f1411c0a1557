"""Signing a user in with a username and password, on the consent page.

Each check is an scrypt hash (~60 ms of CPU), run in a worker thread so other requests keep
flowing. An unknown username is checked against a dummy hash (made at start, so even the first
one costs the same), so "no such user" takes as long as "wrong password", and the page says the
same for both. The `Guard` (guard.py) may refuse an attempt before any hash is computed.
"""

import secrets

from .guard import Guard
from .models import User
from .passwords import hash_password, verify_password
from .storage.users import Users


class PasswordSignIn:
    def __init__(self, users: Users, guard: Guard) -> None:
        self.users, self.guard = users, guard
        # Checked against for unknown usernames, so "no such user" takes as long as "wrong password".
        self.dummy_hash = hash_password(secrets.token_urlsafe(16))

    def check(self, username: str, password: str, address: str) -> User | None:
        """The user, or None for a wrong username or password. Blocking: call it in a worker thread.

        Raises SlowDown (guard.py) while this username or address must wait, having checked nothing.
        """
        self.guard.before_sign_in(username, address)
        stored = self.users.password_hash(username)
        succeeded = verify_password(password, stored or self.dummy_hash) and stored is not None
        self.guard.after_sign_in(username, address, succeeded)
        return User(username) if succeeded else None
