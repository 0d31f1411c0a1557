"""Fixtures for lesson 05's tests: proxies that several tests share, in front of real backends.

A test that breaks its proxy (kills a backend, reloads the config, changes a tool) starts its
own with `proxies.start_proxy`. How processes are started and waited for is in `support/`
(its `__init__.py` says how to import it).
"""

from collections.abc import Iterator

import pytest

from .support import backends, processes, proxies, tokens
from .support.waiting import eventually


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests run on asyncio."""
    return "asyncio"


@pytest.fixture(scope="session")
def aggregate() -> Iterator["proxies.RunningProxy"]:
    """One proxy for the tests that do not break it: lesson 01, lesson 02 and a paging, filtered faulty backend."""
    port = processes.free_port()
    servers = {
        "basic": backends.lesson_01(),
        "passthrough": backends.over_http(f"http://127.0.0.1:{port}/mcp", "L02_TOKEN"),
        "faulty": backends.faulty(
            "--page-size", "2", options={"toolFilter": {"mode": "block", "list": ["delete_*"]}}, timeout=2
        ),
    }
    # Lesson 02 starts alongside the proxy, which retries it until it answers.
    with (
        backends.lesson_02(port) as lesson_02,
        proxies.start_proxy(servers, env={"L02_TOKEN": tokens.FOR_LESSON_02}, pageSize=4) as proxy,
    ):
        processes.wait_until_healthy(lesson_02)
        eventually(lambda: proxy.health()["status"] == "ok", 30, "every backend of the shared proxy ready")
        yield proxy


@pytest.fixture(scope="session")
def guarded() -> Iterator["proxies.RunningProxy"]:
    """A proxy with the gate's tokens: its own for lesson 01, and a (broken) backend with tokens of its own."""
    servers = {
        "basic": backends.lesson_01(),
        # Its own tokens replace the proxy's (TBXark's rule). It never starts: that is fine here.
        "faulty": backends.broken(options={"authTokens": [tokens.FAULTY_ONLY]}),
    }
    with proxies.start_proxy(
        servers,
        env={"PROXY_TOKEN": tokens.PROXY_WIDE},
        base_url="http://proxy.workshop.test:9090",
        authTokens=["${PROXY_TOKEN}"],
        **proxies.PATIENT,
    ) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def team() -> Iterator["proxies.RunningProxy"]:
    """A proxy with tokens per backend only, none of its own: Alice and Mallory each hold a token that
    admits them to `faulty`; only Alice's admits her to `payroll`, which cannot start."""
    servers = {
        "faulty": backends.faulty(options={"authTokens": [tokens.ALICE, tokens.MALLORY]}),
        "payroll": backends.unconfigured("PAYROLL_DATABASE_URL", options={"authTokens": [tokens.ALICE]}),
    }
    with proxies.start_proxy(servers, **proxies.PATIENT) as proxy:
        yield proxy
