"""A backend that fails to start, hangs, crashes or restarts is isolated, and comes back."""

import json
import signal
import time
import uuid
from pathlib import Path

import anyio
import pytest

pytestmark = pytest.mark.anyio


def processes_with(marker: str) -> list[str]:
    """The ids of running processes whose command line contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_text():
                found.append(entry.name)
        except OSError:
            pass  # it exited while we looked
    return found


def states(proxy) -> dict[str, str]:
    return {name: backend["state"] for name, backend in proxy.health()["backends"].items()}


async def test_a_backend_that_fails_to_start_is_isolated(start_proxy, backends, open_client) -> None:
    with start_proxy({"basic": backends.basic(), "broken": backends.broken()}) as proxy:
        # /healthz answers once every backend has had its first try.
        health = proxy.health()
        assert health["status"] == "degraded"
        assert health["backends"]["basic"]["state"] == "ready"
        assert health["backends"]["broken"]["state"] in ("failed", "connecting")
        assert "Connection closed" in health["backends"]["broken"]["error"]
        async with open_client(proxy.mcp_url) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            added = await client.call_tool("basic__add_numbers", {"num1": 1, "num2": 2})
            refused = await client.call_tool("broken__calc", {"a": 1, "b": 2})
    assert names == {"basic__echo_message", "basic__add_numbers"}
    assert added.structured_content == {"result": 3}
    assert refused.is_error
    assert refused.content[0].text.startswith("Backend broken is unavailable")


async def test_a_backend_that_never_answers_is_given_up_on_after_its_timeout(start_proxy, backends, open_client):
    started = time.monotonic()
    with start_proxy({"basic": backends.basic(), "stuck": backends.stuck(timeout=1)}) as proxy:
        ready_after = time.monotonic() - started
        health = proxy.health()
        async with open_client(proxy.mcp_url) as client:
            added = await client.call_tool("basic__add_numbers", {"num1": 1, "num2": 2})
    assert health["backends"]["stuck"]["error"] == "TimeoutError: no answer within 1s"
    assert health["backends"]["basic"]["state"] == "ready"
    assert added.structured_content == {"result": 3}
    assert ready_after < 15


async def test_a_hanging_call_times_out_without_blocking_calls_to_others(aggregate, open_client) -> None:
    timings: dict[str, float] = {}
    results = {}

    async def call(name: str, arguments: dict) -> None:
        start = time.monotonic()
        async with open_client(aggregate.mcp_url) as client:
            results[name] = await client.call_tool(name, arguments)
        timings[name] = time.monotonic() - start

    async def hangs_started() -> int:
        async with open_client(aggregate.mcp_url) as client:
            return (await client.call_tool("faulty__events", {})).content[0].text.count("hang started")

    before = await hangs_started()
    async with anyio.create_task_group() as group:
        group.start_soon(call, "faulty__hang", {})
        with anyio.fail_after(5):  # the other calls start only once the hang is really in flight
            while await hangs_started() == before:
                await anyio.sleep(0.05)
        group.start_soon(call, "basic__add_numbers", {"num1": 1, "num2": 1})
        group.start_soon(call, "faulty__calc", {"a": 1, "b": 1})  # the same backend, too

    assert results["faulty__hang"].is_error
    assert results["faulty__hang"].content[0].text == "Backend faulty did not answer hang within 3s"
    assert timings["faulty__hang"] >= 3
    assert results["basic__add_numbers"].structured_content == {"result": 2}
    assert results["faulty__calc"].content[0].text == "2"
    assert timings["basic__add_numbers"] < 2.5
    assert timings["faulty__calc"] < 2.5


async def test_a_crashed_stdio_backend_is_respawned_and_clients_are_told(
    start_proxy, backends, open_client, eventually
) -> None:
    tag = f"crash-test-{uuid.uuid4()}"
    changes = 0

    async def on_message(message) -> None:
        nonlocal changes
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            changes += 1

    with start_proxy({"basic": backends.basic(), "faulty": backends.faulty("--tag", tag)}) as proxy:
        async with open_client(proxy.mcp_url, mode="legacy", message_handler=on_message) as client:
            await client.list_tools()
            crashed = await client.call_tool("faulty__crash", {})
            assert crashed.is_error
            assert "went away during the call" in crashed.content[0].text

            eventually(lambda: proxy.health()["backends"]["faulty"]["connects"] == 2, message="faulty not respawned")
            assert states(proxy) == {"basic": "ready", "faulty": "ready"}
            with anyio.fail_after(5):
                while changes < 2:  # its tools went away, then came back
                    await anyio.sleep(0.05)
            again = await client.call_tool("faulty__calc", {"a": 2, "b": 2})
            assert again.content[0].text == "4"
        log = proxy.stop()  # SIGTERM
    assert "backend faulty lost" in log
    assert "Application shutdown complete" in log
    # No stdio child outlives the proxy.
    assert not processes_with(tag)


async def test_an_http_backend_that_restarts_gets_a_new_session(
    start_proxy, spawn, unused_port, open_client, eventually
) -> None:
    port = unused_port
    backend_url = f"http://127.0.0.1:{port}/mcp"

    with (
        spawn("01-basic-mcp.server", "--transport", "http", port=port) as lesson_01,
        start_proxy({"remote": {"url": backend_url}}) as proxy,
    ):
        async with open_client(proxy.mcp_url) as client:
            assert (await client.call_tool("remote__echo_message", {"message": "1"})).content[0].text == "Echo: 1"
        lesson_01.stop()
        eventually(lambda: states(proxy)["remote"] != "ready", message="the proxy never noticed")
        with spawn("01-basic-mcp.server", "--transport", "http", port=port):
            eventually(lambda: states(proxy)["remote"] == "ready", message="the proxy never reconnected")
            async with open_client(proxy.mcp_url) as client:
                result = await client.call_tool("remote__echo_message", {"message": "2"})
            assert result.content[0].text == "Echo: 2"
            assert proxy.health()["backends"]["remote"]["connects"] == 2


async def test_sighup_reloads_the_config(start_proxy, backends, open_client, eventually) -> None:
    with start_proxy({"basic": backends.basic()}) as proxy:
        config = json.loads(proxy.config_path.read_text())
        config["mcpServers"] = {"faulty": backends.faulty()}
        proxy.config_path.write_text(json.dumps(config))
        proxy.process.send_signal(signal.SIGHUP)
        eventually(lambda: states(proxy) == {"faulty": "ready"}, message="reload did not swap the backends")
        async with open_client(proxy.mcp_url) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
        assert "faulty__calc" in names and "basic__add_numbers" not in names

        proxy.config_path.write_text('{"mcpServers": {"x": {}}}')
        proxy.process.send_signal(signal.SIGHUP)
        eventually(lambda: "keeps running on the previous config" in proxy.logged())
        assert "mcpServers.x: needs 'command'" in proxy.logged()
        assert states(proxy) == {"faulty": "ready"}


def test_a_required_backend_that_fails_stops_the_proxy(tmp_path, backends, run_cli, unused_port) -> None:
    config = tmp_path / "config.json"
    broken = backends.broken(options={"panicIfInvalid": True})
    config.write_text(json.dumps({"mcpServers": {"basic": backends.basic(), "broken": broken}}))
    address = f"127.0.0.1:{unused_port}"
    result = run_cli("server", "--config", str(config), "--pins", str(tmp_path / "p.json"), "--addr", address)
    assert result.returncode != 0
    assert "required backend(s) failed to start (panicIfInvalid): broken" in result.stderr
