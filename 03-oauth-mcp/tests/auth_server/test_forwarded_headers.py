"""A made-up X-Forwarded-For buys no one a new address: the header counts only from a proxy the operator names.

Every throttle of the authorization server counts per client address. uvicorn, by default, takes
the client's address from `X-Forwarded-For` when the request comes from 127.0.0.1, and the lesson
runs on 127.0.0.1: anyone who reaches it there (or through a proxy that passes the header on) could
name a new address on each request, and every per-address throttle would count each one as a new
machine's first; the log would show the made-up address. The server trusts the header only from
the addresses given with `--forwarded-allow-ips` (a load balancer's), none by default.

The servers run the command from a thread of the test process (in_process_auth_server.py), listening
on a real port, under a uvicorn configured by the command itself (its proxy_headers and
forwarded_allow_ips, from the flags): what is under attack is how that uvicorn and the app count an
address, not the process around them. Their log is the command's, as its process writes it.

The attacker sends from 127.0.0.1, the address uvicorn trusts by default; each test attacks a
throttle of its own (registrations, client secrets, passwords), so the tests stay independent on one
shared server. The made-up addresses come from the documentation ranges (RFC 5737), a range per
test, so each test can look for its own in the log.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from lesson03.tests.support import processes
from lesson03.tests.support.in_process_auth_server import auth_server_in_thread
from lesson03.tests.support.oauth_driver import OAuth
from lesson03.tests.support.waiting import eventually

REGISTRATION_LIMIT = 2
ATTACKER = "127.0.0.1"  # where the lesson runs, and what uvicorn trusts the header from by default
BALANCER = "127.0.0.50"  # the one address the second server trusts the header from


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The authorization server as an attendee runs it: no --forwarded-allow-ips."""
    db = tmp_path_factory.mktemp("forwarded") / "auth.db"
    with auth_server_in_thread("--db", str(db), "--registration-limit", str(REGISTRATION_LIMIT)) as s:
        yield s


@pytest.fixture(scope="module")
def behind_a_balancer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The authorization server as a replica behind a load balancer at BALANCER."""
    db = tmp_path_factory.mktemp("balanced") / "auth.db"
    flags = ("--registration-limit", str(REGISTRATION_LIMIT), "--forwarded-allow-ips", BALANCER)
    with auth_server_in_thread("--db", str(db), *flags) as s:
        yield s


def made_up(network: str, n: int) -> str:
    """The `n`th made-up address in a documentation range, e.g. made_up("203.0.113", 7) == "203.0.113.7"."""
    return f"{network}.{n}"


def logged_requests_from(server: Any, address: str, path: str, count: int) -> str:
    """The server's log, once uvicorn's access log has a line for `count` requests to `path` from `address`."""

    def enough() -> str:
        logged = server.logged()
        lines = [line for line in logged.splitlines() if f" {address}:" in line and f'"POST {path} ' in line]
        return logged if len(lines) >= count else ""

    return eventually(enough, 10, f"{count} requests to {path} from {address} in the log")


def test_registrations_with_a_new_forwarded_address_each_are_still_counted_per_sender(server) -> None:
    attacker = OAuth(server.base_url, address=ATTACKER)
    statuses = []
    for n in range(1, 9):
        attacker.http.headers["X-Forwarded-For"] = made_up("203.0.113", n)
        statuses.append(attacker.register_response().status_code)
    attacker.close()
    assert statuses == [201] * REGISTRATION_LIMIT + [429] * (8 - REGISTRATION_LIMIT)
    logged = logged_requests_from(server, ATTACKER, "/register", 8)
    assert "203.0.113." not in logged  # the log names the sender, not the address it made up


def test_wrong_client_secrets_with_a_new_forwarded_address_each_are_still_throttled(server) -> None:
    attacker = OAuth(server.base_url, address=ATTACKER)
    statuses = []
    for n in range(1, 21):
        attacker.http.headers["X-Forwarded-For"] = made_up("198.51.100", n)
        statuses.append(attacker.client_credentials(auth=("journal-bot", f"guess-{n}")).status_code)
    attacker.close()
    assert statuses[:5] == [401] * 5  # a few mistakes cost nothing
    assert statuses.count(429) >= 10, statuses  # then the sender waits: no scrypt hash for most guesses
    logged = logged_requests_from(server, ATTACKER, "/token", 20)
    assert f"refused a client authentication from {ATTACKER}: too many failures" in logged
    assert "198.51.100." not in logged


def test_wrong_passwords_with_a_new_forwarded_address_each_are_still_throttled(server) -> None:
    registrar = OAuth(server.base_url, address="127.0.0.43")
    client_id = registrar.register()["client_id"]
    registrar.close()
    attacker = OAuth(server.base_url, address=ATTACKER)
    consent = attacker.open_consent(client_id)
    statuses = []
    for n in range(1, 16):
        consent.browser.headers["X-Forwarded-For"] = made_up("192.0.2", n)
        # A new username each time: only the per-address throttle stands in the way.
        statuses.append(attacker.answer(consent, f"nobody-{n}", "guess").status_code)
    consent.browser.close()
    attacker.close()
    assert statuses[:10] == [401] * 10
    assert 429 in statuses[10:], statuses
    assert "192.0.2." not in logged_requests_from(server, ATTACKER, "/authorize", 15)


def test_the_header_counts_from_the_named_balancer_and_from_nowhere_else(behind_a_balancer) -> None:
    balancer = OAuth(behind_a_balancer.base_url, address=BALANCER)
    statuses = []
    for n in range(1, 5):  # four clients behind the balancer, each registering once
        balancer.http.headers["X-Forwarded-For"] = made_up("203.0.113", n)
        statuses.append(balancer.register_response().status_code)
    balancer.close()
    assert statuses == [201] * 4  # each counted as the client the balancer names
    logged = logged_requests_from(behind_a_balancer, "203.0.113.4", "/register", 1)
    assert f" {BALANCER}:" not in logged

    attacker = OAuth(behind_a_balancer.base_url, address=ATTACKER)  # not the balancer
    statuses = []
    for n in range(11, 15):
        attacker.http.headers["X-Forwarded-For"] = made_up("203.0.113", n)
        statuses.append(attacker.register_response().status_code)
    attacker.close()
    assert statuses == [201] * REGISTRATION_LIMIT + [429] * (4 - REGISTRATION_LIMIT)
    assert "203.0.113.11" not in logged_requests_from(behind_a_balancer, ATTACKER, "/register", 4)


def test_forwarded_allow_ips_takes_addresses_and_networks_only() -> None:
    for value in ("*", "balancer.internal"):  # "*" would trust anyone's header: the attack above
        refused = processes.run_cli("auth_server", "--forwarded-allow-ips", value)
        assert refused.returncode == 2, refused.stderr
        assert f"Invalid value for '--forwarded-allow-ips': {value!r} is not an IP address" in refused.stderr
