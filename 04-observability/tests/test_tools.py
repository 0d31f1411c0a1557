"""The tools, through the SDK `Client`, over both transports."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from mcp import Client
from mcp.types import TextContent

from lesson04.tests.support import clients

pytestmark = pytest.mark.anyio

# Some tests run over HTTP only, to keep the suite fast: the tools are the same code on
# both transports.
HTTP_ONLY = pytest.mark.parametrize("connect", ["http"], indirect=True)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module-wide, for the module-wide stdio session below (conftest.py's is per test)."""
    return "asyncio"


@pytest.fixture(scope="module")
async def stdio_session() -> AsyncIterator[Client]:
    """One stdio server for the module's stdio tests, spawned as a host spawns it, and one session with it:
    the tests only read from it, as they share the HTTP server."""
    async with clients.connect(clients.stdio_server()) as client:
        yield client


@pytest.fixture(params=["stdio", "http"])
def connect(request: pytest.FixtureRequest, server):
    """Connect a Client over the transport under test: the stdio session, or a new one with the shared HTTP server."""

    @asynccontextmanager
    async def connected() -> AsyncIterator[Client]:
        if request.param == "stdio":
            yield stdio
            return
        async with clients.connect(server.mcp_url) as client:
            yield client

    # Started on the first stdio test's request, and not at all for HTTP only.
    stdio = request.getfixturevalue("stdio_session") if request.param == "stdio" else None
    return connected


async def test_server_identifies_itself(connect) -> None:
    async with connect() as client:
        assert client.server_info is not None
        assert client.server_info.name == "observability"
        assert client.server_capabilities.tools is not None


@HTTP_ONLY
async def test_tools_are_listed_with_descriptions_and_typed_schemas(connect) -> None:
    async with connect() as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert set(tools) == {"echo_message", "add_numbers", "show_auth_token", "make_authenticated_request"}
    echo = tools["echo_message"]
    assert "Echo: " in echo.description
    assert echo.input_schema["properties"]["message"]["type"] == "string"
    assert echo.input_schema["properties"]["message"]["description"]
    assert echo.input_schema["required"] == ["message"]
    add = tools["add_numbers"]
    assert {name: prop["type"] for name, prop in add.input_schema["properties"].items()} == {
        "num1": "number",
        "num2": "number",
    }
    assert sorted(add.input_schema["required"]) == ["num1", "num2"]


async def test_echo_message(connect) -> None:
    async with connect() as client:
        result = await client.call_tool("echo_message", {"message": "héllo wörld"})
    assert not result.is_error
    assert result.content == [TextContent(type="text", text="Echo: héllo wörld")]
    assert result.structured_content == {"result": "Echo: héllo wörld"}


@HTTP_ONLY
async def test_add_numbers(connect) -> None:
    async with connect() as client:
        result = await client.call_tool("add_numbers", {"num1": 2, "num2": 3.5})
    assert not result.is_error
    assert result.structured_content == {"result": 5.5}


async def test_unknown_tool_is_a_tool_error(connect) -> None:
    async with connect() as client:
        result = await client.call_tool("does_not_exist", {})
    assert result.is_error
    assert "Unknown tool: does_not_exist" in result.content[0].text


@HTTP_ONLY
async def test_wrong_argument_type_is_rejected_before_the_tool_runs(connect) -> None:
    async with connect() as client:
        result = await client.call_tool("add_numbers", {"num1": "two", "num2": 3})
        assert result.is_error
        assert "num1" in result.content[0].text
        assert "valid number" in result.content[0].text
        # The connection survives the bad call.
        again = await client.call_tool("add_numbers", {"num1": 1, "num2": 1})
        assert again.structured_content == {"result": 2}
