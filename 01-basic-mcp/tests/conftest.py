"""Fixtures for lesson 01's tests: the server, started with `python -m` as an attendee starts it.

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
def server() -> Iterator[processes.RunningServer]:
    """`python -m 01-basic-mcp.server --transport http` on a free port, shared by every test that only talks to it."""
    with processes.start_process("server", "--transport", "http") as running:
        yield running
