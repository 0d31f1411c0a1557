"""Fixtures for lesson 03's tests: real servers on real transports, started as an attendee starts them.

The machinery (launching, waiting, the stand-in issuer, the person at the browser, the
attacker) lives in `tests/support/`, one idea per file; its `__init__.py` says how to import it.
The shared servers below are the subject of their tests for what they answer, never as processes
(no test reads their process, its exit code or its stderr): each runs its own command, flags and
all, on a thread of the test process, on a real port (support/in_process_server.py,
in_process_auth_server.py). A test of a process itself starts its own.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from .support import deployment, issuer, processes, replicas

if TYPE_CHECKING:
    from .support.in_process_server import ServerInThread

RESOURCE_SERVER_SECRET = "p%41ss:w/rd+ é&="  # a test secret with every character that HTTP Basic mangles
# The introspecting MCP server is the second --resource: it introspects as a client of its own, since
# /introspect answers a resource server about its own resources' tokens only (add_resource_server.py).
INTROSPECTING_CLIENT_ID = "journal-mcp-server-2"


@pytest.fixture(scope="module")
def test_issuer() -> Iterator["issuer.TestIssuer"]:
    """A stand-in authorization server that mints whatever token a test needs."""
    with issuer.serve_test_issuer() as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def resource_server(test_issuer) -> Iterator["ServerInThread"]:
    """The MCP server over HTTP, trusting the stand-in issuer, with a fresh journal."""
    from .support.in_process_server import mcp_server_in_thread  # imported by the tests that need it

    with mcp_server_in_thread("--transport", "http", "--issuer", test_issuer.url) as rs:
        yield rs


@dataclass
class Parties:
    auth: "ServerInThread"
    mcp: "ServerInThread"
    introspecting: "ServerInThread"  # a second MCP server, production's, verifying tokens by introspection

    @property
    def issuer(self) -> str:
        return self.auth.base_url

    @property
    def mcp_url(self) -> str:
        return self.mcp.mcp_url

    @property
    def introspecting_mcp_url(self) -> str:
        return self.introspecting.mcp_url


@pytest.fixture(scope="session")
def parties(tmp_path_factory) -> Iterator[Parties]:
    """The authorization server and two MCP servers it issues tokens for: the lesson's (JWT), and
    production's with introspection."""
    # Imported by the tests that need them: the authorization server's command imports Authlib.
    from .support import in_process_client
    from .support.in_process_auth_server import auth_server_in_thread
    from .support.in_process_server import mcp_server_in_thread

    state = tmp_path_factory.mktemp("parties")
    auth_port, mcp_port, introspecting_port = (processes.free_port() for _ in range(3))
    issuer_url = f"http://127.0.0.1:{auth_port}"
    resources = [f"--resource=http://127.0.0.1:{port}/mcp" for port in (mcp_port, introspecting_port)]
    mcp = ["--transport", "http", "--issuer", issuer_url]
    # The introspecting server's secret holds the characters RFC 6749 §2.3.1 makes clients
    # form-urlencode inside HTTP Basic: introspection works only if that is done right.
    secret = {"JOURNAL_MCP_SERVER_SECRET": RESOURCE_SERVER_SECRET}
    provisioned = in_process_client.run_cli(  # the administrator's command, in this process
        "auth_server.optional.add_resource_server",
        *("--db", str(state / "auth.db"), "--client-id", INTROSPECTING_CLIENT_ID, *resources[1:]),
        env={"RESOURCE_SERVER_SECRET": RESOURCE_SERVER_SECRET},
    )
    assert provisioned.returncode == 0, provisioned.stderr
    with (
        auth_server_in_thread(
            # Many test clients register from one address: more than the default hourly limit allows.
            "--db",
            str(state / "auth.db"),
            *resources,
            "--registration-limit",
            "1000",
            port=auth_port,
            env=secret,
        ) as auth,
        mcp_server_in_thread(*mcp, port=mcp_port) as rs,
        mcp_server_in_thread(
            *mcp,
            "--verifier",
            "introspection",
            "--client-id",
            INTROSPECTING_CLIENT_ID,
            "--introspection-cache",
            "1",  # a revocation counts after 1 s, not the default 5: test_flow.py waits for one
            "--db",
            str(state / "j2.db"),
            port=introspecting_port,
            env=secret,
            program="production.server",
        ) as introspecting,
    ):
        yield Parties(auth, rs, introspecting)


@pytest.fixture(scope="module")
def deployed() -> Iterator["deployment.Deployment"]:
    """PostgreSQL, two authorization servers and four MCP servers sharing it, HAProxy in front."""
    try:
        deployment.check_available()
    except deployment.Unavailable as reason:
        pytest.skip(f"{reason}: the replica tests need it")
    with deployment.deployed() as running:
        yield running


@pytest.fixture(scope="module")
def sqlite_replicas(tmp_path_factory) -> Iterator[list["processes.RunningServer"]]:
    """Two authorization servers started at the same moment on one new SQLite file, with one issuer."""
    db, port = tmp_path_factory.mktemp("shared") / "auth.db", processes.free_port()
    shared = ("--db", str(db), "--issuer", f"http://127.0.0.1:{port}")
    launches = replicas.Launch("auth_server", shared, port), replicas.Launch("auth_server", shared)
    with replicas.started_together(*launches) as both:
        yield both


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
