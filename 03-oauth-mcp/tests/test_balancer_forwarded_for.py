"""Behind the load balancer, a client's own X-Forwarded-For never reaches the authorization server.

The balancer (support/load_balancer.py, as docs/production.md configures HAProxy) sets the header
to the address it saw; the replica believes it only from the balancer (`--forwarded-allow-ips`).
A balancer that passed the client's header on would let the client name a new address on each
request, to every per-address throttle behind it and to the log. One authorization server here,
on SQLite: the header is what is tested, not the replicas (test_replicas.py), and it runs from a thread of
the test process on a real port (in_process_auth_server.py), under the uvicorn its command configures.

Skipped, with the reason, where Debian's haproxy is not installed (.ci/run installs it).
"""

from collections.abc import Iterator
from typing import Any

import pytest

from lesson03.tests.support import load_balancer
from lesson03.tests.support.in_process_auth_server import auth_server_in_thread
from lesson03.tests.support.oauth_driver import OAuth

REGISTRATION_LIMIT = 2


@pytest.fixture(scope="module")
def balanced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """(the balancer's URL, the authorization server behind it)."""
    try:
        load_balancer.haproxy()
    except load_balancer.Unavailable as reason:
        pytest.skip(f"{reason}: this test needs it")
    db = tmp_path_factory.mktemp("balanced") / "auth.db"
    flags = ("--registration-limit", str(REGISTRATION_LIMIT), "--forwarded-allow-ips", "127.0.0.1")
    with auth_server_in_thread("--db", str(db), *flags) as replica:
        pool = load_balancer.Pool("auth", {"as1": replica.base_url})
        with load_balancer.running([pool]) as balancer:
            balancer.wait_until_every_server_answers()
            yield pool.url, replica


def test_a_clients_own_forwarded_for_is_replaced_by_the_address_the_balancer_saw(balanced) -> None:
    url, replica = balanced
    attacker = OAuth(url)
    statuses = []
    for n in range(1, 9):
        attacker.http.headers["X-Forwarded-For"] = f"203.0.113.{n}"  # made up (RFC 5737), new each time
        statuses.append(attacker.register_response().status_code)
    attacker.close()
    assert statuses == [201] * REGISTRATION_LIMIT + [429] * (8 - REGISTRATION_LIMIT)
    assert "203.0.113." not in replica.logged()
