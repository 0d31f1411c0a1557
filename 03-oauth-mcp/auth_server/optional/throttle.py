"""Optional: throttling guesses. A few attempts are free, then each one makes the next wait longer, up to a cap.

For a server anyone can reach: without it, a password or a client secret can be guessed as fast
as the server answers, and every guess costs it an scrypt hash (~60 ms of CPU).

What is counted, and per what (the keys), is decided where the attempt happens: passwords per
username, existing or not, and per address, and client secrets per address (`Throttles`, the
core's guard.py `Guard`); registrations per address (registration.py). `Throttle` keeps the rule,
the same for all of them:

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
Checking and counting happen with the row locked (SELECT ... FOR UPDATE): attempts sent all at
once, to one replica or to several, are counted one by one, so no more of them get through than
one after another would.
"""

import ipaddress
import logging
import time
from typing import Annotated, Any

import typer
from sqlalchemy import Column, Connection, Engine, Float, Integer, Table, Text, delete, select, update

from ... import database
from ..guard import Guard, SlowDown
from ..storage import Store, digest, tables

logger = logging.getLogger(__name__)

# Guessing: this many failures are free within the window; after them each attempt must wait 1 s,
# 2 s, 4 s, ... up to --max-lockout.
DEFAULT_MAX_LOCKOUT = 60
FAILURE_WINDOW = 15 * 60
FREE_PASSWORD_FAILURES_PER_USER = 5
FREE_PASSWORD_FAILURES_PER_ADDRESS = 10  # one address may try several usernames (a shared NAT, a typo)
FREE_CLIENT_SECRET_FAILURES_PER_ADDRESS = 5
# /register is open to anyone: this many registrations per address and hour, then the same delays.
DEFAULT_REGISTRATION_LIMIT = 30
REGISTRATION_WINDOW = 3600

MaxLockoutOption = Annotated[
    float,
    typer.Option(
        min=0.1,
        help="The longest wait, in seconds, that repeated failed sign-ins or client authentications impose "
        "on a user or an address.",
    ),
]
RegistrationLimitOption = Annotated[
    int, typer.Option(min=1, help="Client registrations one address may make per hour before each must wait.")
]

attempts = Table(
    "attempts",
    tables,
    Column("key", Text, primary_key=True),  # what is throttled: "password-user:<digest>", "register:127.0.0.1", ...
    Column("count", Integer, nullable=False),  # attempts counted since the window opened
    Column("blocked_until", Float, nullable=False),  # no further attempt before this time
    Column("expires_at", Float, nullable=False),  # forgotten after this: a window without attempts
)


class Throttle(Store):
    def __init__(self, engine: Engine, kind: str, free: int, window: float, max_delay: float) -> None:
        super().__init__(engine)
        self.kind, self.free, self.window, self.max_delay = kind, free, window, max_delay  # kind: the keys' prefix

    def take(self, subject: str) -> float:
        """Count an attempt before making it: 0 if it may go ahead, else the seconds to wait (nothing counted)."""
        current = time.time()
        with self.engine.begin() as connection:
            row = self._locked(connection, subject, current)
            alive = row.expires_at >= current
            if alive and row.blocked_until > current:
                return row.blocked_until - current
            self._count(connection, subject, row.count + 1 if alive else 1, current)
        return 0.0

    def give_back(self, subject: str) -> None:
        """The attempt taken did not count after all: it succeeded, or was not made."""
        row = attempts.c.key == self._key(subject), attempts.c.count > 0
        self._run(update(attempts).where(*row).values(count=attempts.c.count - 1))

    def forget(self, subject: str) -> None:
        """Start afresh: the owner of the account has just signed in."""
        self._run(delete(attempts).where(attempts.c.key == self._key(subject)))

    def wait(self, subject: str) -> float:
        """Seconds until `subject` may try again; 0 if it may now. For attempts counted only when they fail."""
        row = attempts.c.key == self._key(subject), attempts.c.expires_at >= time.time()
        found = self._one(select(attempts.c.blocked_until).where(*row))
        return max(0.0, (found.blocked_until if found else 0.0) - time.time())

    def count(self, subject: str) -> None:
        """Count an attempt already made (a failure), however long `subject` should have waited."""
        current = time.time()
        with self.engine.begin() as connection:
            row = self._locked(connection, subject, current)
            self._count(connection, subject, row.count + 1 if row.expires_at >= current else 1, current)

    def delay(self, count: int) -> float:
        """How long the attempt after the `count`-th must wait: 0 while free, then 1, 2, 4 ... max_delay."""
        if count < self.free:
            return 0.0
        return min(2.0 ** min(count - self.free, 32), self.max_delay)  # min(..., 32): no float overflow

    def _key(self, subject: str) -> str:
        return f"{self.kind}:{subject}"

    def _locked(self, connection: Connection, subject: str, current: float) -> Any:
        """The row of `subject`, created empty if missing, locked until the transaction ends."""
        # Expired rows are deleted here, so the table holds only the keys attempted within the last window.
        self._delete_expired(connection, attempts, current)
        empty = {"key": self._key(subject), "count": 0, "blocked_until": 0.0, "expires_at": current + self.window}
        connection.execute(database.insert(connection, attempts).values(empty).on_conflict_do_nothing())
        return connection.execute(select(attempts).where(attempts.c.key == self._key(subject)).with_for_update()).one()

    def _count(self, connection: Connection, subject: str, count: int, current: float) -> None:
        # The window restarts after a window without attempts.
        values = {"count": count, "blocked_until": current + self.delay(count), "expires_at": current + self.window}
        connection.execute(update(attempts).where(attempts.c.key == self._key(subject)).values(values))


class Throttles(Guard):
    """The core's guard (guard.py), filled in: every throttle of this server, with the numbers above.

    Passwords: each attempt counts per username and per client address, before the password is
    checked, and neither may be waiting:
    - per username: guessing alice's password from many addresses slows down after a few failures;
    - per address: trying many usernames (or passwords) from one address slows down too.
    Every username submitted is counted, whether or not it exists: counting only real ones made
    their sixth failure a 429 and a made-up name's never, which told anyone which names exist. So a
    made-up name adds a row, kept as a digest (what is typed as a username is sometimes a password);
    how many rows one address can add is what the per-address throttle allows. A success clears the
    user's count, and gives back the address's one attempt without clearing its count (an attacker
    with an account of their own could otherwise sign in between guesses to start afresh).

    Client secrets: failures count per address, and an address past its free failures is refused
    before any hash is computed. Per address, not per client: a client secret is 256 random bits
    that nobody guesses; what needs protecting is this server's CPU, and a per-client count would
    let anyone lock the resource server out of /introspect by failing in its name. Requests without
    a secret (public clients) cost no hash and are never throttled.
    """

    def __init__(self, engine: Engine, max_lockout: float, registration_limit: int) -> None:
        def throttle(kind: str, free: int, window: float = FAILURE_WINDOW, cap: float = max_lockout) -> Throttle:
            return Throttle(engine, kind, free, window, cap)

        self.password_per_user = throttle("password-user", FREE_PASSWORD_FAILURES_PER_USER)
        self.password_per_address = throttle("password-address", FREE_PASSWORD_FAILURES_PER_ADDRESS)
        self.client_secret_per_address = throttle("client-secret-address", FREE_CLIENT_SECRET_FAILURES_PER_ADDRESS)
        # Registrations are counted, not failures; past the limit the wait grows to a whole window.
        self.registration_per_address = throttle(
            "register", registration_limit, REGISTRATION_WINDOW, REGISTRATION_WINDOW
        )

    def before_sign_in(self, username: str, address: str) -> None:
        address = address_key(address)
        if wait := self.password_per_address.take(address):
            raise SlowDown(wait, "Too many failed sign-ins from this address")
        if wait := self.password_per_user.take(digest(username)):
            self.password_per_address.give_back(address)  # this attempt is not made
            raise SlowDown(wait, "Too many failed sign-ins for this username")

    def after_sign_in(self, username: str, address: str, succeeded: bool) -> None:
        if succeeded:
            self.password_per_user.forget(digest(username))
            self.password_per_address.give_back(address_key(address))

    def before_client_secret(self, address: str) -> None:
        if wait := self.client_secret_per_address.wait(address_key(address)):
            logger.warning("refused a client authentication from %s: too many failures", address_key(address))
            raise SlowDown(wait, "Too many failed client authentications; wait, then try again")

    def after_wrong_client_secret(self, address: str) -> None:
        self.client_secret_per_address.count(address_key(address))

    def before_registration(self, address: str) -> None:
        """Open registration (RFC 7591 §3): each address may register only so many clients (--registration-limit)."""
        if wait := self.registration_per_address.take(address_key(address)):
            raise SlowDown(wait, "Too many registrations from this address; wait, then try again")


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
