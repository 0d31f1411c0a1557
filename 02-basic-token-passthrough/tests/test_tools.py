"""The tools, through the SDK `Client`, over both transports.

The tools keep no state, so one client session per transport serves the whole module.
"""

from collections.abc import AsyncIterator

import pytest
from mcp import Client
from mcp.types import TextContent

from lesson02.tests.support import processes

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module", params=["stdio", "http"])
async def client(request: pytest.FixtureRequest, server) -> AsyncIterator[Client]:
    """A connected `Client`: to a server it spawns over stdio, or to the shared HTTP server."""
    target = processes.stdio_server() if request.param == "stdio" else server.mcp_url
    async with Client(target) as connected:
        yield connected


async def test_server_identifies_itself(client: Client) -> None:
    assert client.server_info is not None
    assert client.server_info.name == "basic-token-passthrough"
    assert client.server_capabilities.tools is not None


async def test_tools_are_listed_with_descriptions_and_typed_schemas(client: Client) -> None:
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


async def test_echo_message(client: Client) -> None:
    result = await client.call_tool("echo_message", {"message": "héllo wörld"})
    assert not result.is_error
    assert result.content == [TextContent(type="text", text="Echo: héllo wörld")]
    assert result.structured_content == {"result": "Echo: héllo wörld"}


async def test_add_numbers(client: Client) -> None:
    result = await client.call_tool("add_numbers", {"num1": 2, "num2": 3.5})
    assert not result.is_error
    assert result.structured_content == {"result": 5.5}


async def test_unknown_tool_is_a_tool_error(client: Client) -> None:
    result = await client.call_tool("does_not_exist", {})
    assert result.is_error
    assert "Unknown tool: does_not_exist" in result.content[0].text


async def test_wrong_argument_type_is_rejected_before_the_tool_runs(client: Client) -> None:
    result = await client.call_tool("add_numbers", {"num1": "two", "num2": 3})
    assert result.is_error
    assert "num1" in result.content[0].text
    assert "valid number" in result.content[0].text
    # The session survives the bad call.
    again = await client.call_tool("add_numbers", {"num1": 1, "num2": 1})
    assert again.structured_content == {"result": 2}
