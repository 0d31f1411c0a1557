"""Fixtures for the authorization server's tests: the server, and an OAuth client for it.

One server per test module, with a fresh db in a temporary directory, so modules run in parallel
under xdist without sharing state. A module that needs other flags starts its own server. The
server is the command `python -m 03-oauth-mcp.auth_server` runs, served from a thread of the test
process on a real port (in_process_auth_server.py): these tests are about what it answers, and
test_cli.py and test_logging.py, about its process, start the real one.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from lesson03.tests.support import document_server as document_server_module
from lesson03.tests.support import oauth_driver
from lesson03.tests.support.in_process_auth_server import auth_server_in_thread


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The authorization server, `python -m 03-oauth-mcp.auth_server`, with a fresh db."""
    db = tmp_path_factory.mktemp("auth_server") / "auth.db"
    with auth_server_in_thread("--db", str(db)) as server:
        yield server


@pytest.fixture(scope="module")
def oauth(auth_server: Any) -> Iterator[Any]:
    """An OAuth client (and its user's browser) for `auth_server`."""
    client = oauth_driver.OAuth(auth_server.base_url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def public_client(oauth: Any) -> dict[str, Any]:
    """A public client registered the way the MCP SDK registers (DCR, native, no secret)."""
    return oauth.register()


@pytest.fixture(scope="module")
def document_server() -> Iterator[Any]:
    """A loopback web server publishing one client metadata document."""
    with document_server_module.DocumentServer().running() as server:
        yield server
