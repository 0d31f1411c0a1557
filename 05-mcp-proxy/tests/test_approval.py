"""Indirect prompt injection's limit: a sensitive tool runs only once the caller's user approves the call, and every
result carries a mark of the backend it came from (the lab indirect_injection runs the attack)."""

from collections.abc import Awaitable, Callable

import anyio
import pytest
from mcp_types import ElicitResult

from lesson05.tests.support import backends, clients, proxies
from lesson05.tests.support.waiting import eventually_async

connect, text = clients.connect, clients.text

pytestmark = pytest.mark.anyio

# The faulty backend's `hang` needs the user's approval here: a call that never answers, so that the test sees it
# arrive (the backend counts it in `events`), and ends it.
QUESTION = 'faulty__hang needs your approval. Run it with these arguments? {"why": "the model read it somewhere"}'
ARGUMENTS = {"why": "the model read it somewhere"}


def the_user(approves: bool, asked: list[str]) -> Callable[..., Awaitable[ElicitResult]]:
    """An elicitation callback: the user, who approves every call, or none; what each question said, in `asked`."""

    async def answer(context, params) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"approve": True}) if approves else ElicitResult(action="decline")

    return answer


async def hangs_started(client) -> int:
    return text(await client.call_tool("faulty__events", {})).count("hang started")


async def test_a_sensitive_call_reaches_its_backend_only_once_the_callers_user_approves_it() -> None:
    with (
        backends.faulty_over_http(options={"requireApproval": ["hang"]}) as faulty,
        proxies.proxy_in_thread({"faulty": faulty}) as proxy,
    ):
        asked: list[str] = []
        async with connect(proxy.mcp_url, mode="legacy", elicitation_callback=the_user(False, asked)) as client:
            before = await hangs_started(client)
            declined = await client.call_tool("faulty__hang", ARGUMENTS)
            assert asked == [QUESTION]  # the exact tool and arguments, to the user
            assert declined.is_error
            assert text(declined) == "Tool faulty__hang was not run: its user did not approve the call"
            calc = await client.call_tool("faulty__calc", {"a": 1, "b": 2})  # the other tools ask no one
            assert text(calc) == "3"
        async with connect(proxy.mcp_url, mode="legacy") as cannot_ask:  # no elicitation callback
            refused = await cannot_ask.call_tool("faulty__hang", ARGUMENTS)
            assert text(refused) == (
                "Tool faulty__hang needs its user's approval, and this client cannot ask for it "
                "(it offers no elicitation)"
            )
        async with connect(proxy.mcp_url, elicitation_callback=the_user(True, asked)) as modern:  # 2026-07-28
            refused = await modern.call_tool("faulty__hang", ARGUMENTS)
            assert "this proxy cannot ask on a 2026-07-28 request" in text(refused)
        assert len(asked) == 1  # neither of those two clients' users was asked: nothing reached the backend

        async with connect(proxy.mcp_url, mode="legacy", elicitation_callback=the_user(True, asked)) as client:
            assert await hangs_started(client) == before
            async with anyio.create_task_group() as group:
                group.start_soon(client.call_tool, "faulty__hang", ARGUMENTS)

                async def forwarded() -> bool:
                    return await hangs_started(client) == before + 1

                await eventually_async(forwarded, message="the approved call reaching the backend")
                group.cancel_scope.cancel()  # it never answers: enough that it arrived
        assert asked == [QUESTION, QUESTION]
        assert "the model read it somewhere" not in proxy.logged()  # shown to the user, never logged


async def test_every_result_is_marked_with_the_backend_it_came_from(aggregate) -> None:
    async with connect(aggregate.mcp_url) as client:
        calc = await client.call_tool("faulty__calc", {"a": 40, "b": 2})
        over_http = await client.call_tool("passthrough__add_numbers", {"num1": 1, "num2": 1})
        unknown = await client.call_tool("faulty__nothing", {})
    assert calc.meta["mcp-workshop/proxy"] == {"backend": "faulty", "name": "calc", "untrusted": True}
    assert over_http.meta["mcp-workshop/proxy"] == {"backend": "passthrough", "name": "add_numbers", "untrusted": True}
    assert "mcp-workshop/proxy" not in (unknown.meta or {})  # the proxy's own words: no backend wrote them
