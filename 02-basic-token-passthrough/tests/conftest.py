"""Fixtures for lesson 02's tests: the echo upstream and the server, started with `python -m` as an attendee would.

How the processes are started, and waited for, is in `support/` (its `__init__.py` says how to import it).
"""

from collections.abc import Iterator

import pytest

from .support import processes


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests and fixtures run on asyncio; session scope lets a fixture keep a client open across tests."""
    return "asyncio"


@pytest.fixture(scope="session")
def echo_upstream() -> Iterator[processes.RunningServer]:
    """`python -m 02-basic-token-passthrough.upstream`: the lesson's own echo API (httpbin's /anything shape)."""
    with processes.start_process("upstream") as running:
        yield running


@pytest.fixture(scope="session")
def server(echo_upstream: processes.RunningServer) -> Iterator[processes.RunningServer]:
    """The HTTP server, calling the echo upstream, shared by every test that only talks to it."""
    upstream_url = f"{echo_upstream.base_url}/anything"
    with processes.start_process("server", "--transport", "http", "--upstream-url", upstream_url) as running:
        yield running
