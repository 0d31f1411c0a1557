"""Guessing, flooding and slow hashes: passwords, client secrets and registrations are throttled.

The server here runs with `--max-lockout 1` (no wait longer than 1 s, so the tests never sit out a
real lockout) and `--registration-limit 3`. Each test sends from its own loopback address
(127.0.0.2, 127.0.0.3, ...), which to the server are different machines: the throttles count per
address, and the tests stay independent of each other on one shared server.

The server is the command's, run from a thread of the test process and listening on a real port
(in_process_auth_server.py): every request, its hash and its wait happen there as in the process. The
test of what a flood costs the server measures the CPU of a server process of its own: in the test
process, other servers' threads would count too.
"""

import os
import re
import secrets
import sqlite3
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest

from lesson03.auth_server import passwords, storage
from lesson03.auth_server.optional import recently_verified, throttle
from lesson03.tests.support import oauth_driver, processes
from lesson03.tests.support.in_process_auth_server import auth_server_in_thread
from lesson03.tests.support.oauth_driver import OAuth
from lesson03.tests.support.waiting import eventually

MAX_LOCKOUT = 1  # second: long enough for the next request to meet the wait, short to sit out
FREE_PER_ADDRESS = throttle.FREE_PASSWORD_FAILURES_PER_ADDRESS


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("throttling") / "auth.db"


@pytest.fixture(scope="module")
def server(db_path: Path) -> Iterator[Any]:
    flags = ["--max-lockout", str(MAX_LOCKOUT), "--registration-limit", "3"]
    with auth_server_in_thread("--db", str(db_path), *flags) as running:
        yield running


@pytest.fixture(scope="module")
def client_id(server: Any) -> Iterator[str]:
    registrar = OAuth(server.base_url, address="127.0.0.99")
    yield registrar.register()["client_id"]
    registrar.close()


def until_a_guess_is_checked_again(attempt: Any) -> None:
    """Fail until the throttle refuses (429), then until it checks a guess again (401): that last
    failure starts a fresh wait, so an attempt sent right after surely meets it."""
    eventually(lambda: attempt().status_code == 429, 30, "a throttled attempt")
    eventually(lambda: attempt().status_code == 401, 30, "an attempt checked again after the wait")


def test_forty_wrong_passwords_then_the_right_one_is_refused_until_the_wait_is_over(server, client_id) -> None:
    oauth = OAuth(server.base_url, address="127.0.0.2")
    authorization = oauth.open_consent(client_id)

    statuses = [oauth.answer(authorization, "bob", f"guess-{n}").status_code for n in range(40)]
    assert statuses[:5] == [401] * 5  # a few mistakes cost nothing
    assert 429 in statuses  # then each guess must wait
    until_a_guess_is_checked_again(lambda: oauth.answer(authorization, "bob", "wrong"))

    refused = oauth.answer(authorization, "bob", "builder")  # the right password, too soon
    assert refused.status_code == 429
    assert "Too many failed sign-ins." in refused.text
    assert int(refused.headers["retry-after"]) <= MAX_LOCKOUT
    assert "location" not in refused.headers

    # Bounded: once the wait (never longer than --max-lockout) is over, the right password works.
    eventually(lambda: oauth.answer(authorization, "bob", "builder").status_code == 302, 10, "bob signed in")
    assert "code" in authorization.params


def test_guesses_sent_all_at_once_get_no_more_checks_than_one_after_another(server, client_id) -> None:
    oauth = OAuth(server.base_url, address="127.0.0.9")
    authorization = oauth.open_consent(client_id)

    def guess(n: int) -> int:
        with oauth.browser() as browser:  # a connection of its own, the same cookie
            browser.cookies = authorization.browser.cookies
            form = {**authorization.form, "username": "alice", "password": f"parallel-{n}", "decision": "approve"}
            return browser.post(f"{server.base_url}/authorize", data=form).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(guess, range(20)))
    assert statuses.count(401) == 5  # alice's free failures, each counted before its hash was checked
    assert statuses.count(429) == 15
    # alice herself, once the wait is over: her count starts afresh, for the tests that follow too.
    eventually(lambda: oauth.answer(authorization).status_code == 302, 10, "alice signed in")


def test_many_usernames_from_one_address_slow_down_that_address_only(server, client_id, db_path) -> None:
    sprayer, neighbour = OAuth(server.base_url, address="127.0.0.3"), OAuth(server.base_url, address="127.0.0.4")
    authorization = sprayer.open_consent(client_id)
    sent: list[tuple[str, int]] = []  # (made-up name, status)

    def spray() -> Any:
        name = f"made-up-{len(sent)}"
        answer = sprayer.answer(authorization, name, "password")
        sent.append((name, answer.status_code))
        return answer

    until_a_guess_is_checked_again(spray)
    assert sprayer.answer(authorization, "alice", "wonderland").status_code == 429
    assert neighbour.authorize(client_id).response.status_code == 302  # alice, from another machine

    # Made-up names are counted like real ones (or the 429 would tell which names exist), each under
    # a digest (a password typed as a username stays out of the table), and no more of them than the
    # address's throttle let through: the table cannot be filled from one address by inventing names.
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        keys = {key for (key,) in db.execute("SELECT key FROM attempts")}
    assert "password-address:127.0.0.3" in keys
    assert not [key for key in keys if "made-up" in key]
    counted = {name for name, _ in sent if f"password-user:{storage.digest(name)}" in keys}
    assert counted == {name for name, status in sent if status == 401}  # each one checked, and only those
    assert len(counted) <= FREE_PER_ADDRESS + 2  # the free ones, and one after each wait


def test_a_made_up_username_gets_the_same_answers_as_a_real_one_at_the_same_cost(server, client_id) -> None:
    # User enumeration: the per-user count was kept for real usernames only, so a real user's sixth
    # failure met a 429 and a made-up name's never did. The same failures now get the same answers.
    def five_failures_and_one_more(username: str, address: str) -> tuple[list[tuple[int, str]], list[float]]:
        oauth = OAuth(server.base_url, address=address)
        authorization = oauth.open_consent(client_id)
        answers, durations = [], []
        for n in range(6):
            started = time.perf_counter()
            response = oauth.answer(authorization, username, f"wrong-{n}")
            durations.append(time.perf_counter() - started)
            answers.append((response.status_code, without_what_differs(response.text, username, authorization)))
        oauth.close()
        return answers, [duration for (status, _), duration in zip(answers, durations, strict=True) if status == 401]

    started = time.process_time()
    passwords.verify_password("wrong", passwords.hash_password("right"))
    one_scrypt = (time.process_time() - started) / 2  # hashed twice
    real, real_durations = five_failures_and_one_more("bob", "127.0.0.12")
    made_up, made_up_durations = five_failures_and_one_more("nobody-by-this-name", "127.0.0.13")

    assert [status for status, _ in real] == [401] * 5 + [429]
    assert made_up == real  # statuses and pages alike
    # Each failure costs one scrypt, real name or not: no fast path tells them apart. The fastest is
    # compared, which the machine's load can only slow down.
    assert min(real_durations) >= one_scrypt / 2 and min(made_up_durations) >= one_scrypt / 2
    # bob himself, once the wait is over: his count starts afresh, for the tests that follow too.
    oauth = OAuth(server.base_url, address="127.0.0.14")
    eventually(lambda: oauth.authorize(client_id, "bob", "builder").response.status_code == 302, 10, "bob signed in")


def without_what_differs(page: str, username: str, authorization: Any) -> str:
    """The page without what differs by design between two sign-ins: the name typed, this form's own ids, and
    the style's nonce (new on every page)."""
    for value in (*authorization.form.values(), username):
        page = page.replace(value, "...")
    return re.sub(r'nonce="[^"]*"', 'nonce="..."', page)


def test_wrong_client_secrets_slow_down_their_address_and_spare_the_real_client(server) -> None:
    attacker, resource_server = OAuth(server.base_url, address="127.0.0.5"), OAuth(server.base_url, "127.0.0.6")
    client_id, secret = oauth_driver.RS_AUTH
    guesses = iter(f"guess-{n}" for n in range(1000))
    until_a_guess_is_checked_again(lambda: attacker.introspect("token", auth=(client_id, next(guesses))))

    refused = attacker.introspect("token", auth=(client_id, secret))  # refused before any hash
    assert refused.status_code == 429
    assert refused.json()["error"] == "slow_down"
    assert 1 <= int(refused.headers["retry-after"]) <= MAX_LOCKOUT
    # The real resource server, elsewhere, is not locked out by failures in its name.
    assert resource_server.introspect("token").json() == {"active": False}
    eventually(lambda: attacker.introspect("token").status_code == 200, 10, "the wait to pass")


def test_registrations_per_address_are_limited(server) -> None:
    flooder, other = OAuth(server.base_url, address="127.0.0.7"), OAuth(server.base_url, address="127.0.0.8")
    for _ in range(3):  # --registration-limit 3
        flooder.register()
    refused = flooder.register_response()
    assert refused.status_code == 429
    assert refused.json()["error"] == "slow_down"
    assert int(refused.headers["retry-after"]) >= 1
    assert other.register_response().status_code == 201


def test_secret_checks_do_not_hold_up_other_requests(server) -> None:
    """Two attackers sending wrong resource-server secrets (each an scrypt check, ~60 ms of CPU; a new
    loopback address whenever the throttle stops one) while /healthz is asked: the checks run in
    worker threads, so /healthz answers in a fraction of the time a check takes, instead of waiting
    in line behind them on the event loop."""
    stop, checks = threading.Event(), []
    client_id, _ = oauth_driver.RS_AUTH

    def guess_wrong_secrets(network: int) -> None:
        for host in range(1, 255):
            guesser = OAuth(server.base_url, address=f"127.0.{network}.{host}")
            try:
                while not stop.is_set():
                    started = time.perf_counter()
                    response = guesser.introspect(secrets.token_urlsafe(32), auth=(client_id, "wrong"))
                    checks.append((response.status_code, time.perf_counter() - started))
                    if response.status_code == 429:  # throttled: guess from another address
                        break
            finally:
                guesser.close()
            if stop.is_set():
                return

    attackers = [threading.Thread(target=guess_wrong_secrets, args=(network,)) for network in (1, 2)]
    for attacker in attackers:
        attacker.start()
    try:
        eventually(lambda: len(checks) >= 4, 30, "secret checks under way")
        health = []
        with httpx2.Client(timeout=10) as http:
            for _ in range(30):
                started = time.perf_counter()
                assert http.get(f"{server.base_url}/healthz").status_code == 200
                health.append(time.perf_counter() - started)
    finally:
        stop.set()
        for attacker in attackers:
            attacker.join()
    assert {status for status, _ in checks} <= {401, 429}
    assert statistics.median(health) < statistics.median(duration for status, duration in checks if status == 401) / 4


def test_a_right_secret_remembered_lets_no_wrong_one_in(server) -> None:
    """The right secret is remembered for a few minutes (one HMAC instead of one scrypt): a wrong one,
    even the right one with a character more or less, still fails, and the right one still works."""
    resource_server = OAuth(server.base_url, address="127.0.0.10")
    client_id, secret = oauth_driver.RS_AUTH
    try:
        assert resource_server.introspect("token").status_code == 200
        for wrong in (secret + "x", secret[:-1], secret.upper(), ""):
            assert resource_server.introspect("token", auth=(client_id, wrong)).status_code == 401
        assert resource_server.introspect("token").status_code == 200
    finally:
        resource_server.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc (Linux)")
def test_a_flood_of_introspections_costs_no_scrypt_per_token(db_path: Path) -> None:
    """A resource server introspecting made-up tokens (an attacker sends them to it) authenticates every
    time: 40 introspections must cost the authorization server less CPU than 10 scrypt checks do."""
    started = time.process_time()
    for _ in range(3):
        passwords.verify_password("dev-resource-server-secret", passwords.hash_password("another"))
    one_scrypt = (time.process_time() - started) / 6  # each round hashed twice
    db = db_path.with_name("flood.db")
    with processes.start_process("auth_server", "--db", str(db)) as server:  # what it spends: its own CPU

        def cpu_seconds() -> float:
            fields = Path(f"/proc/{server.process.pid}/stat").read_text().rpartition(")")[2].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        resource_server = OAuth(server.base_url, address="127.0.0.11")
        try:
            assert resource_server.introspect("token").status_code == 200  # the one check that costs a hash
            before = cpu_seconds()
            for _ in range(40):
                assert resource_server.introspect(secrets.token_urlsafe(32)).json() == {"active": False}
            assert cpu_seconds() - before < 10 * one_scrypt
        finally:
            resource_server.close()


def test_only_right_secrets_are_remembered_for_a_while_and_a_few(monkeypatch) -> None:
    checks = []

    def counted(secret: str, stored: str) -> bool:
        checks.append(secret)
        return secret.startswith("right")

    monkeypatch.setattr(recently_verified, "verify_password", counted)
    clock = [1000.0]
    monkeypatch.setattr(recently_verified.time, "monotonic", lambda: clock[0])
    remembered = recently_verified.RecentlyVerified(seconds=60, max_entries=2)

    assert [remembered.verify("right", "hash-1") for _ in range(3)] == [True] * 3
    assert [remembered.verify("wrong", "hash-1") for _ in range(2)] == [False] * 2
    assert remembered.verify("right", "hash-2")  # the same secret against another stored hash: checked
    assert checks == ["right", "wrong", "wrong", "right"]

    assert remembered.verify("right-too", "hash-1")  # a third entry: "right"/hash-1, used least lately, goes
    assert remembered.verify("right", "hash-2")
    assert remembered.verify("right", "hash-1")
    assert checks[-2:] == ["right-too", "right"]

    clock[0] += 61  # past its time, an entry is checked again
    assert remembered.verify("right", "hash-1")
    assert checks[-1] == "right" and len(checks) == 7


def test_the_wait_doubles_up_to_the_cap_and_expired_counts_are_deleted(tmp_path) -> None:
    engine = storage.open_database(tmp_path / "auth.db")
    rows = sqlite3.connect(tmp_path / "auth.db")
    try:
        rule = throttle.Throttle(engine, "test", free=2, window=60, max_delay=10)
        assert [rule.delay(count) for count in range(1, 8)] == [0, 1, 2, 4, 8, 10, 10]
        assert rule.delay(10**9) == 10  # no overflow, however long an attack goes on
        rule.count("a")
        assert rule.wait("a") == 0
        brief = throttle.Throttle(engine, "brief", free=0, window=-1, max_delay=10)  # forgotten at once
        brief.count("b")
        rule.count("a")  # counting prunes what has expired
        assert rows.execute("SELECT key FROM attempts").fetchall() == [("test:a",)]
        # Taken before the attempt: the second of two free ones starts the wait for the third.
        assert rule.take("t") == rule.take("t") == 0
        assert 0 < rule.take("t") <= 1  # waiting: refused, and not counted
        rule.give_back("t")  # the second succeeded after all
        assert rows.execute("SELECT count FROM attempts WHERE key = 'test:t'").fetchone() == (1,)
        assert throttle.address_key("2001:db8::1") == throttle.address_key("2001:db8::2") == "2001:db8::/64"
        assert throttle.address_key("::ffff:192.0.2.1") == "192.0.2.1"
    finally:
        rows.close()
        engine.dispose()
