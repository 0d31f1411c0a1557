"""Fixtures for lesson 05's tests: proxies that several tests share, in front of real backends.

`guarded` is the proxy's process, as users reach it: the tests of what its log holds read it.
`aggregate` and `team` are the same app served from a thread of the test process
(`proxy_in_thread`): their tests are about what the proxy answers, on a real port all the same.
A test that breaks its proxy (kills a backend, reloads the config, changes a tool) starts its
own. How processes and threads are started and waited for is in `support/` (its `__init__.py`
says how to import it).
"""

from collections.abc import Iterator

import pytest

from .support import backends, in_process, processes, proxies, tokens
from .support.waiting import eventually


def pytest_sessionstart(session: pytest.Session) -> None:
    # Here, not on import or in pytest_configure: pytest puts the warning filters set there back as they were.
    in_process.ignore_the_proxys_deprecation_warnings()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests run on asyncio."""
    return "asyncio"


@pytest.fixture(scope="session")
def aggregate() -> Iterator["proxies.RunningProxy"]:
    """One proxy for the tests that do not break it: lesson 01 (stdio), lesson 02 (HTTP) and a paging, filtered
    faulty backend (HTTP, from a thread here: its 2 s timeout is for calls, and a process of its own could take
    longer than that to start on a busy machine)."""
    port = processes.free_port()
    filtered = {"toolFilter": {"mode": "block", "list": ["delete_*"]}}
    with (
        backends.lesson_02(port),
        backends.faulty_over_http(page_size=2, options=filtered, timeout=2) as faulty,
    ):
        servers = {
            "basic": backends.lesson_01(),
            "passthrough": backends.over_http(f"http://127.0.0.1:{port}/mcp", "L02_TOKEN"),
            "faulty": faulty,
        }
        with proxies.proxy_in_thread(servers, env={"L02_TOKEN": tokens.FOR_LESSON_02}, pageSize=4) as proxy:
            try:
                eventually(lambda: proxy.health()["status"] == "ok", 30, "every backend of the shared proxy ready")
            except AssertionError as error:  # which one, and why
                raise AssertionError(f"{error}: {proxy.health()}\n{proxy.logged()}") from None
            yield proxy


@pytest.fixture(scope="session")
def guarded() -> Iterator["proxies.RunningProxy"]:
    """A proxy with the gate's tokens: its own for lesson 01 (over HTTP, from a thread here), and a (broken)
    backend with tokens of its own."""
    port = processes.free_port()
    servers = {
        "basic": {"url": f"http://127.0.0.1:{port}/mcp"},
        # Its own tokens replace the proxy's (TBXark's rule). It never starts: that is fine here.
        "faulty": backends.broken(options={"authTokens": [tokens.FAULTY_ONLY]}),
    }
    with (
        backends.lesson_01_over_http(port),
        proxies.start_proxy(
            servers,
            env={"PROXY_TOKEN": tokens.PROXY_WIDE},
            base_url="http://proxy.workshop.test:9090",
            authTokens=["${PROXY_TOKEN}"],
            **proxies.PATIENT,
        ) as proxy,
    ):
        yield proxy


@pytest.fixture(scope="session")
def team() -> Iterator["proxies.RunningProxy"]:
    """A proxy with tokens per backend only, none of its own: Alice and Mallory each hold a token that
    admits them to `faulty` (over HTTP); only Alice's admits her to `payroll`, which cannot start."""
    with backends.faulty_over_http(options={"authTokens": [tokens.ALICE, tokens.MALLORY]}) as faulty:
        servers = {
            "faulty": faulty,
            "payroll": backends.unconfigured("PAYROLL_DATABASE_URL", options={"authTokens": [tokens.ALICE]}),
        }
        with proxies.proxy_in_thread(servers, **proxies.PATIENT) as proxy:
            yield proxy
