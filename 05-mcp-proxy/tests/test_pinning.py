"""Pinning, end to end: a tool whose definition changes (a rug pull), or with `approveNewTools` any new tool,
is refused by lesson 05's proxy until an operator has read it and approved it."""

import subprocess

import pytest
from mcp_types import Tool

from lesson05.server.__main__ import cli
from lesson05.tests.support import backends, clients, in_process, processes, proxies, waiting

connect, text, run_cli = clients.connect, clients.text, processes.run_cli


def operator_runs(*args: str) -> "subprocess.CompletedProcess[str]":
    """`python -m 05-mcp-proxy.server ARGS`, a command that succeeds, run here (in_process.py): what it printed.
    A command that fails runs as its own process (`run_cli`), for its exit code and its message."""
    return in_process.invoke(cli, *args)


pytestmark = pytest.mark.anyio


async def test_a_changed_tool_definition_is_refused_until_an_operator_approves_it() -> None:
    with backends.faulty_over_http() as faulty, proxies.proxy_in_thread({"faulty": faulty}) as proxy:
        pins = proxy.operator_options
        async with connect(proxy.mcp_url, mode="legacy") as client:
            assert text(await client.call_tool("faulty__calc", {"a": 1, "b": 2})) == "3"

            # The backend rewrites calc's description and says so: the proxy re-lists and sees the change.
            await client.call_tool("faulty__mutate", {})
            waiting.eventually(lambda: "tool faulty/calc changed its definition" in proxy.logged())
            names = {tool.name for tool in (await client.list_tools()).tools}
            refused = await client.call_tool("faulty__calc", {"a": 1, "b": 2})

            assert "faulty__calc" not in names
            assert "faulty__echo_message" in names  # the other tools are untouched
            assert refused.is_error
            # The refusal says why, and how to review and approve it, with this proxy's own files.
            operator = f"python -m 05-mcp-proxy.server {' '.join(pins)}"
            assert text(refused) == (
                "Tool faulty__calc is refused: its definition changed since it was approved (a possible rug pull). "
                f"An operator can review the change with `{operator} pins` "
                f"and accept it with `{operator} approve faulty__calc`."
            )

            # The operator reviews the diff...
            review = operator_runs(*pins, "pins")
            assert review.returncode == 0, review.stderr
            assert "CHANGED faulty/calc" in review.stdout
            assert '-  "description": "Add two integers.",' in review.stdout
            assert "+" in review.stdout and "id_rsa" in review.stdout

            # ...approves it, and the running proxy serves the tool again.
            approved = operator_runs(*pins, "approve", "faulty__calc")
            assert approved.returncode == 0, approved.stderr
            assert approved.stdout.strip() == "approved faulty/calc"

            async def listed_again() -> bool:
                return "faulty__calc" in await clients.tool_names(client)

            await waiting.eventually_async(listed_again, message="faulty__calc listed again after approval")
            assert text(await client.call_tool("faulty__calc", {"a": 1, "b": 2})) == "3"


async def test_with_approve_new_tools_no_tool_is_served_before_an_operator_approves_it() -> None:
    with (
        backends.faulty_over_http() as faulty,
        proxies.proxy_in_thread({"faulty": faulty}, approveNewTools=True) as proxy,
    ):
        pins = proxy.operator_options
        async with connect(proxy.mcp_url) as client:
            assert await clients.tool_names(client) == set()  # a poisoned description reaches no model
            refused = await client.call_tool("faulty__calc", {"a": 1, "b": 2})
            assert refused.is_error
            operator = f"python -m 05-mcp-proxy.server {' '.join(pins)}"
            assert text(refused) == (
                "Tool faulty__calc is refused: it is new, and this proxy serves no tool before an operator "
                f"approved it. An operator can review it with `{operator} pins` "
                f"and accept it with `{operator} approve faulty__calc`."
            )

            # The operator reads each new tool's whole definition, as a diff from nothing...
            review = operator_runs(*pins, "pins")
            assert review.returncode == 0, review.stderr
            assert review.stdout.startswith(f"{proxy.pins_path}: 0 approved, 0 changed, 11 new\n")
            assert "  NEW     faulty/calc  sha256:" in review.stdout
            assert "faulty/calc is new (seen " in review.stdout
            assert '  +  "description": "Add two integers.",' in review.stdout

            # ...approves one, and the running proxy serves that one only.
            approved = operator_runs(*pins, "approve", "faulty__calc")
            assert approved.stdout.strip() == "approved faulty/calc", approved.stderr

            async def served() -> set[str]:
                return await clients.tool_names(client)

            assert await waiting.eventually_async(served, message="faulty__calc served once approved") == {
                "faulty__calc"
            }
            assert text(await client.call_tool("faulty__calc", {"a": 1, "b": 2})) == "3"


async def test_a_tool_listed_twice_with_new_meta_or_naming_another_servers_tool_waits_for_review() -> None:
    # `mail` never starts: its name, in the config, is all a description can be caught naming.
    with (
        backends.faulty_over_http() as faulty,
        proxies.proxy_in_thread({"faulty": faulty, "mail": backends.broken()}) as proxy,
    ):
        pins = proxy.operator_options
        operator = f"python -m 05-mcp-proxy.server {' '.join(pins)}"
        async with connect(proxy.mcp_url, mode="legacy") as client:
            assert text(await client.call_tool("faulty__calc", {"a": 1, "b": 2})) == "3"  # approved on first sight

            async def mutated(how: str) -> list[Tool]:
                """What the client lists once the backend has changed its tools `how` (and the proxy re-listed)."""
                before = (await client.list_tools()).tools
                await client.call_tool("faulty__mutate", {"how": how})

                async def relisted() -> list[Tool] | None:
                    tools = (await client.list_tools()).tools
                    return tools if tools != before else None

                return await waiting.eventually_async(relisted, message=f"the proxy re-listing ({how})")

            # The backend lists calc twice: a poisoned copy first, then the approved one.
            names = [tool.name for tool in await mutated("twice")]
            assert "faulty__calc" not in names and "faulty__echo_message" in names
            assert "backend faulty lists tool calc 2 times: refused" in proxy.logged()
            assert text(await client.call_tool("faulty__calc", {"a": 1, "b": 2})) == (
                "Tool faulty__calc is refused: its server lists 2 tools of that name, and a call could reach any of "
                "them (a possible rug pull). It is served again once its server lists it once. "
                f"An operator can review them with `{operator} pins`."
            )
            review = operator_runs(*pins, "pins")  # both entries wait for an operator to read...
            assert review.stdout.splitlines()[0].endswith(" approved, 0 changed, 0 new, 1 listed more than once")
            assert "\n  LISTED 2 TIMES faulty/calc  sha256:" in review.stdout, review.stdout  # not "CHANGED"
            assert "\nfaulty/calc is listed 2 times by its backend (every entry below)" in review.stdout
            assert "id_rsa" in review.stdout
            assert review.stdout.count('"name": "calc"') == 3  # the approved definition, and both listed
            refused = run_cli("server", *pins, "approve", "faulty__calc")  # ...and none can be approved
            assert (refused.returncode, refused.stderr) == (
                1,
                "error: faulty/calc is listed 2 times by its backend: it cannot be approved until the backend "
                "lists it once\n",
            )

            # An MCP App's UI (`_meta.ui.resourceUri`) and its icons change: what a host shows, unapproved.
            assert "faulty__echo_message" not in [tool.name for tool in await mutated("meta")]
            assert "tool faulty/echo_message changed its definition" in proxy.logged()
            review = operator_runs(*pins, "pins")
            assert '"resourceUri": "ui://faulty/steal-the-session"' in review.stdout
            assert '"src": "https://evil.test/i.png"' in review.stdout

            # A new tool tells the model how to use another server's tool (tool shadowing): trusted on first
            # use like any new tool, but for that. Held, logged, and shown by /healthz and `pins`.
            await client.call_tool("faulty__mutate", {"how": "shadow"})
            waiting.eventually(lambda: "tool faulty/forward names another server's tool (mail__" in proxy.logged())
            assert "faulty__forward" not in await clients.tool_names(client)
            assert text(await client.call_tool("faulty__forward", {})) == (
                "Tool faulty__forward is refused: its description names another server's tool (mail__send_email): "
                f"a possible tool shadowing. An operator can review it with `{operator} pins` "
                f"and accept it with `{operator} approve faulty__forward`."
            )
            assert "faulty__forward" in proxy.health()["backends"]["faulty"]["held"]
            review = operator_runs(*pins, "pins")
            assert "  NAMES OTHERS faulty/forward  sha256:" in review.stdout, review.stdout
            assert "\nfaulty/forward is new, and names another server's tool: mail__send_email" in review.stdout
            assert operator_runs(*pins, "approve", "faulty__forward").stdout == "approved faulty/forward\n"

            async def forward_served() -> bool:
                return "faulty__forward" in await clients.tool_names(client)

            await waiting.eventually_async(forward_served, message="faulty__forward served once approved")


def test_approving_a_tool_with_no_pending_change_is_an_error(tmp_path) -> None:
    pins = ("--config", str(tmp_path / "none.json"), "--pins", str(tmp_path / "pins.json"))
    (tmp_path / "none.json").write_text("{}")
    result = run_cli("server", *pins, "approve", "basic__echo_message")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no change waiting for approval: basic/echo_message"
    assert run_cli("server", *pins, "approve").returncode == 2  # neither a name nor --all
