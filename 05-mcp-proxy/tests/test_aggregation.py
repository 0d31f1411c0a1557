"""Lesson 05's one endpoint for three real backends: lesson 01 (stdio), lesson 02 (HTTP) and a faulty one (HTTP)."""

import re

import pytest
from mcp import MCPError
from mcp_types import PromptReference, ResourceTemplateReference

from lesson05.tests.support import clients, tokens

connect, every_tool, text = clients.connect, clients.every_tool, clients.text

pytestmark = pytest.mark.anyio

LLM_SAFE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


async def test_tools_of_every_backend_are_listed_namespaced(aggregate) -> None:
    async with connect(aggregate.mcp_url) as client:
        first_page = await client.list_tools()
        tools = {tool.name: tool for tool in await every_tool(client)}
    assert len(first_page.tools) == 4
    assert first_page.next_cursor is not None
    assert {"basic__echo_message", "basic__add_numbers"} <= set(tools)
    assert {"passthrough__show_auth_token", "passthrough__make_authenticated_request"} <= set(tools)
    # The faulty backend pages its own list two at a time: the proxy followed every cursor.
    assert {"faulty__calc", "faulty__slow", "faulty__hang", "faulty__events", "faulty__mutate"} <= set(tools)
    assert all(LLM_SAFE.match(name) for name in tools)
    # Where each tool really lives travels in its _meta, for clients that group them.
    assert tools["faulty__calc"].meta["mcp-workshop/proxy"] == {"backend": "faulty", "name": "calc"}
    assert tools["basic__add_numbers"].input_schema["properties"]["num1"]["type"] == "number"


async def test_name_collisions_are_resolved_by_the_namespace(aggregate) -> None:
    async with connect(aggregate.mcp_url) as client:
        names = {tool.name for tool in await every_tool(client)}
        assert {"basic__echo_message", "passthrough__echo_message", "faulty__echo_message"} <= names
        basic = await client.call_tool("basic__echo_message", {"message": "hi"})
        faulty = await client.call_tool("faulty__echo_message", {"message": "hi"})
    assert text(basic) == "Echo: hi"
    assert text(faulty) == "faulty echo: hi"


async def test_calls_reach_the_right_backend_over_both_transports(aggregate) -> None:
    async with connect(aggregate.mcp_url) as client:
        added = await client.call_tool("basic__add_numbers", {"num1": 2, "num2": 3.5})
        calc = await client.call_tool("faulty__calc", {"a": 40, "b": 2})
        over_http = await client.call_tool("passthrough__add_numbers", {"num1": 1, "num2": 1})
    assert added.structured_content == {"result": 5.5}
    assert text(calc) == "42"
    assert over_http.structured_content == {"result": 2}


async def test_a_backends_own_tool_errors_come_back_as_tool_errors(aggregate) -> None:
    async with connect(aggregate.mcp_url) as client:
        result = await client.call_tool("basic__add_numbers", {"num1": "two", "num2": 3})
        unknown = await client.call_tool("basic__subtract", {})
    assert result.is_error and "num1" in text(result)
    assert unknown.is_error and text(unknown) == "Unknown tool: basic__subtract"


async def test_a_filtered_tool_is_neither_listed_nor_callable(aggregate) -> None:
    async with connect(aggregate.mcp_url) as client:
        names = {tool.name for tool in await every_tool(client)}
        called = await client.call_tool("faulty__delete_everything", {})
    assert "faulty__delete_everything" not in names
    assert called.is_error
    assert text(called) == "Unknown tool: faulty__delete_everything"  # same as a tool that does not exist


async def test_the_backend_gets_its_configured_token_never_the_callers(aggregate) -> None:
    async with connect(aggregate.mcp_url, token="the-callers-own-token-99") as client:
        shown = await client.call_tool("passthrough__show_auth_token", {})
        upstream = await client.call_tool("passthrough__make_authenticated_request", {"message": "hi"})
    # Lesson 02 shows the token it was sent, masked: the proxy's own credential for it, not the caller's.
    assert shown.structured_content == {"result": tokens.FOR_LESSON_02_MASKED}
    assert upstream.structured_content["headers"]["Authorization"] == f"Bearer {tokens.FOR_LESSON_02_MASKED}"


async def test_prompts_resources_templates_and_completions_are_aggregated(aggregate) -> None:
    async with connect(aggregate.mcp_url) as client:
        prompts = {prompt.name for prompt in (await client.list_prompts()).prompts}
        prompt = await client.get_prompt("faulty__greet", {"who": "Ada"})
        resources = [resource.uri for resource in (await client.list_resources()).resources]
        templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
        status = await client.read_resource("faulty+status://now")
        item = await client.read_resource("faulty+items://42")
        by_prompt = await client.complete(
            PromptReference(type="ref/prompt", name="faulty__greet"), {"name": "who", "value": "A"}
        )
        by_template = await client.complete(
            ResourceTemplateReference(type="ref/resource", uri="faulty+items://{id}"), {"name": "id", "value": "G"}
        )
        with pytest.raises(MCPError, match="Unknown resource"):
            await client.read_resource("nobody+status://now")
    assert prompts == {"faulty__greet"}
    assert prompt.messages[0].content.text == "Say hello to Ada."
    assert resources == ["faulty+status://now"]
    assert templates == ["faulty+items://{id}"]
    assert (status.contents[0].uri, status.contents[0].text) == ("faulty+status://now", "all systems nominal")
    assert item.contents[0].text == "item 42"
    assert by_prompt.completion.values == ["Ada", "Alan"]
    assert by_template.completion.values == ["Grace"]


async def test_each_backend_also_has_its_own_route_under_its_own_names(aggregate) -> None:
    async with connect(f"{aggregate.base_url}/faulty/mcp") as client:
        names = {tool.name for tool in await every_tool(client)}
        calc = await client.call_tool("calc", {"a": 1, "b": 2})
        resources = [resource.uri for resource in (await client.list_resources()).resources]
    assert "calc" in names and "echo_message" in names
    assert "delete_everything" not in names  # the filter applies on every route
    assert not any("__" in name for name in names)
    assert text(calc) == "3"
    assert resources == ["status://now"]


async def test_a_bad_cursor_is_an_invalid_params_error(aggregate) -> None:
    async with connect(aggregate.mcp_url) as client:
        with pytest.raises(MCPError) as caught:
            await client.list_tools(cursor="not base64!")
    assert caught.value.code == -32602


def test_healthz_reports_each_backend(aggregate) -> None:
    health = aggregate.health()
    assert health["status"] == "ok"
    assert {name: b["state"] for name, b in health["backends"].items()} == {
        "basic": "ready",
        "passthrough": "ready",
        "faulty": "ready",
    }
    assert health["backends"]["basic"]["transport"] == "stdio"
    assert health["backends"]["passthrough"]["transport"] == "streamable-http"
    assert health["backends"]["faulty"]["tools"] == 11
