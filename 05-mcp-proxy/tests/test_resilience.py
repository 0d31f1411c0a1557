"""A backend of lesson 05's proxy that fails to start, hangs, crashes, dies or restarts is isolated, and comes back."""

import json
import os
import signal
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import anyio
import pytest

from lesson05.tests.support import backends, clients, processes, proxies, waiting

connect, text = clients.connect, clients.text
eventually, eventually_async = waiting.eventually, waiting.eventually_async

pytestmark = pytest.mark.anyio

TOGETHER = ("slow1", "slow2", "slow3")  # backends that answer only once all three have started
DOWN = (  # what a call to a backend that is down (or on its way back) may answer
    "error: Backend faulty went away during the call",
    "error: Backend faulty failed during the call",
    "error: Backend faulty is unavailable (failed: ",
    "error: Backend faulty is unavailable (connecting: ",
)


@dataclass
class MixedLot:
    proxy: "proxies.RunningProxy"
    tag: str  # on the command line of the `faulty` backend's process, to find it and kill it


@pytest.fixture(scope="module")
def lot() -> Iterator[MixedLot]:
    """One proxy for this module, in front of a mixed lot of backends.

    `broken` exits at once, `stuck` never answers, `slow1`..`slow3` answer only once all three
    have started, and `faulty` is the one the tests crash and kill (each test waits until it
    is back before it ends).
    """
    tag = f"resilience-test-{uuid.uuid4()}"
    with tempfile.TemporaryDirectory() as rendezvous:
        servers = {
            "broken": backends.broken(),
            "stuck": backends.stuck(timeout=1),
            **{
                name: backends.faulty("--rendezvous", rendezvous, "--peers", str(len(TOGETHER)), timeout=15)
                for name in TOGETHER
            },
            "faulty": backends.faulty("--tag", tag),
        }
        # `faulty` is back a tenth of a second after each loss; `broken` and `stuck` are retried every few seconds.
        with proxies.proxy_in_thread(servers, reconnect={"initialDelay": 0.1, "maxDelay": 5}) as proxy:
            yield MixedLot(proxy, tag)


def test_backends_start_together_not_one_after_another(lot) -> None:
    # Each of these answers only once all three are running: had the proxy waited for one
    # before starting the next, the first would never have answered, and none would be ready.
    states = lot.proxy.states()
    assert {name: states[name] for name in TOGETHER} == dict.fromkeys(TOGETHER, "ready")


async def test_a_backend_that_fails_to_start_is_isolated(lot) -> None:
    # /healthz answers once every backend has had its first try.
    health = lot.proxy.health()
    assert health["status"] == "degraded"
    assert health["backends"]["slow1"]["state"] == "ready"
    assert health["backends"]["broken"]["state"] in ("failed", "connecting")
    assert "Connection closed" in health["backends"]["broken"]["error"]
    async with connect(lot.proxy.mcp_url) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        added = await client.call_tool("slow1__calc", {"a": 1, "b": 2})
        refused = await client.call_tool("broken__calc", {"a": 1, "b": 2})
    assert {"slow1__calc", "slow2__calc", "slow3__calc"} <= names
    assert not any(name.startswith(("broken__", "stuck__")) for name in names)
    assert text(added) == "3"
    assert refused.is_error
    assert text(refused).startswith("Backend broken is unavailable (")


def test_a_backend_that_never_answers_is_given_up_on_after_its_timeout(lot) -> None:
    health = lot.proxy.health()
    assert health["backends"]["stuck"]["state"] in ("failed", "connecting")
    assert health["backends"]["stuck"]["error"] == "TimeoutError: no answer within 1s"
    assert health["backends"]["slow1"]["state"] == "ready"


async def test_a_hanging_call_times_out_without_blocking_calls_to_others(aggregate) -> None:
    finished: list[str] = []

    async with connect(aggregate.mcp_url) as hanging, connect(aggregate.mcp_url) as other:

        async def hang() -> None:
            finished.append(text(await hanging.call_tool("faulty__hang", {})))

        async def hangs_started() -> int:
            return text(await other.call_tool("faulty__events", {})).count("hang started")

        before = await hangs_started()
        async with anyio.create_task_group() as group:
            group.start_soon(hang)

            async def hang_in_flight() -> bool:
                return await hangs_started() > before

            await eventually_async(hang_in_flight, message="the hang in flight on the backend")
            # While it hangs: another backend, and the same backend, answer at once.
            added = await other.call_tool("basic__add_numbers", {"num1": 1, "num2": 1})
            calc = await other.call_tool("faulty__calc", {"a": 1, "b": 1})
            finished.append("the others")

    assert added.structured_content == {"result": 2}
    assert text(calc) == "2"
    assert finished == ["the others", "Backend faulty did not answer hang within 2s"]


def connects(proxy: "proxies.RunningProxy") -> int:
    return proxy.health()["backends"]["faulty"]["connects"]


async def test_a_crashed_stdio_backend_is_respawned_and_clients_are_told(lot) -> None:
    proxy = lot.proxy
    before = connects(proxy)
    changes = 0

    async def on_message(message) -> None:
        nonlocal changes
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            changes += 1

    async with connect(proxy.mcp_url, mode="legacy", message_handler=on_message) as client:
        await client.list_tools()
        crashed = await client.call_tool("faulty__crash", {})
        assert crashed.is_error
        assert text(crashed) == "Backend faulty went away during the call; reconnecting"

        eventually(lambda: connects(proxy) == before + 1, 20, "faulty respawned")
        assert proxy.states()["faulty"] == "ready"

        async def told_twice() -> bool:
            return changes >= 2  # its tools went away, then came back

        await eventually_async(told_twice, message="two list_changed notifications")
        assert text(await client.call_tool("faulty__calc", {"a": 2, "b": 2})) == "4"
    assert "backend faulty lost" in proxy.logged()


async def test_a_backend_killed_under_load_reads_as_unavailable_never_as_a_changed_tool(lot) -> None:
    proxy = lot.proxy
    before = connects(proxy)
    answers: dict[str, list[str]] = {"slow1": [], "faulty": []}
    running = True

    async def keep_calling(client, backend: str, tool: str, arguments: dict) -> None:
        while running:
            result = await client.call_tool(tool, arguments)
            answers[backend].append(f"error: {text(result)}" if result.is_error else text(result))

    async def flowing() -> bool:
        return len(answers["faulty"]) > 10

    async def respawned() -> bool:
        return connects(proxy) == before + 1

    async def answering_again() -> bool:
        return "2" in answers["faulty"][served_before_respawn:]

    async with connect(proxy.mcp_url) as client, anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(keep_calling, client, "faulty", "faulty__calc", {"a": 1, "b": 1})
            group.start_soon(keep_calling, client, "slow1", "slow1__echo_message", {"message": "hi"})
        await eventually_async(flowing, message="calls flowing to both backends")
        [pid] = processes.processes_with(lot.tag)
        os.kill(pid, signal.SIGKILL)
        await eventually_async(respawned, 20, "faulty respawned")
        served_before_respawn = len(answers["faulty"])
        await eventually_async(answering_again, message="faulty answering again")
        running = False

    refusals = [answer for answer in answers["faulty"] if answer.startswith("error:")]
    assert refusals, "the kill was never seen by a call"
    assert not [answer for answer in answers["faulty"] if "rug pull" in answer]
    for refusal in refusals:  # each says the backend is down, and how it knows
        assert refusal.startswith(DOWN), refusal
    assert set(answers["slow1"]) == {"faulty echo: hi"}  # the other backends never noticed


async def test_an_http_backend_that_restarts_gets_a_new_session() -> None:
    port = processes.free_port()
    with ExitStack() as first, proxies.proxy_in_thread({"remote": {"url": f"http://127.0.0.1:{port}/mcp"}}) as proxy:
        first.enter_context(backends.lesson_01_over_http(port))  # started while the proxy retries it
        eventually(lambda: proxy.states()["remote"] == "ready", 30, "the proxy connecting")
        async with connect(proxy.mcp_url) as client:
            assert text(await client.call_tool("remote__echo_message", {"message": "1"})) == "Echo: 1"
        first.close()  # the backend stops
        eventually(lambda: proxy.states()["remote"] != "ready", message="the proxy noticing")
        with backends.lesson_01_over_http(port):  # and starts again, on the same port
            eventually(lambda: proxy.states()["remote"] == "ready", message="the proxy reconnecting")
            async with connect(proxy.mcp_url) as client:
                result = await client.call_tool("remote__echo_message", {"message": "2"})
            assert text(result) == "Echo: 2"
            assert proxy.health()["backends"]["remote"]["connects"] == 2


async def test_sighup_reloads_the_config_restarts_only_what_changed_and_refuses_one_anyone_can_write() -> None:
    tag = f"reload-test-{uuid.uuid4()}"
    with proxies.start_proxy({"basic": backends.lesson_01()}) as proxy:
        config = json.loads(proxy.config_path.read_text())

        def reload(servers: dict) -> None:
            proxy.config_path.write_text(json.dumps({**config, "mcpServers": servers}))
            proxy.process.send_signal(signal.SIGHUP)

        reload({"faulty": backends.faulty("--tag", tag)})
        eventually(lambda: proxy.states() == {"faulty": "ready"}, message="the reload swapping the backends")
        async with connect(proxy.mcp_url) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
        assert "faulty__calc" in names and "basic__add_numbers" not in names

        # A new tool filter changes what callers see, not the connection: no restart.
        reload({"faulty": backends.faulty("--tag", tag, options={"toolFilter": {"mode": "block", "list": ["calc"]}})})
        eventually(lambda: proxy.logged().count("INFO    05-mcp-proxy.server.proxy: reloaded ") == 2)
        async with connect(proxy.mcp_url) as client:
            assert "faulty__calc" not in {tool.name for tool in (await client.list_tools()).tools}
        assert proxy.health()["backends"]["faulty"]["connects"] == 1

        proxy.config_path.write_text('{"mcpServers": {"x": {}}}')
        proxy.process.send_signal(signal.SIGHUP)
        eventually(lambda: "keeps running on the previous config" in proxy.logged())
        assert "mcpServers.x: needs 'command'" in proxy.logged()
        assert proxy.states() == {"faulty": "ready"}

        # A config anyone can write names a command of someone else's: refused, whatever it says (the lab
        # stdio_escalation), and the command never runs.
        ran = proxy.config_path.with_name("ran-a-stranger's-command")
        stranger = {"command": "sh", "args": ["-c", f"touch '{ran}'"]}
        proxy.config_path.chmod(0o666)
        reload({"faulty": backends.faulty("--tag", tag), "stranger": stranger})
        eventually(lambda: proxy.logged().count("keeps running on the previous config") == 2)
        assert f"anyone can write {proxy.config_path} (mode 0666)" in proxy.logged()
        assert proxy.states() == {"faulty": "ready"}
        assert not ran.exists()
        log = proxy.stop()  # SIGTERM
    assert "Application shutdown complete" in log
    assert not processes.processes_with(tag)  # no stdio child outlives the proxy


def test_a_required_backend_that_fails_stops_the_proxy(tmp_path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"mcpServers": {"broken": backends.broken(options={"panicIfInvalid": True})}}))
    address = f"127.0.0.1:{processes.free_port()}"
    result = processes.run_cli("server", "--config", str(config), "--pins", str(tmp_path / "p.json"), "--addr", address)
    assert result.returncode != 0
    assert "required backend(s) failed to start (panicIfInvalid): broken" in result.stderr
