"""A rug pull, end to end: a backend changes a tool's description; the proxy hides and refuses it until approved."""

import anyio
import pytest

pytestmark = pytest.mark.anyio


async def test_a_changed_tool_definition_is_refused_until_an_operator_approves_it(
    start_proxy, backends, open_client, run_cli, eventually
) -> None:
    with start_proxy({"faulty": backends.faulty()}) as proxy:
        pins = ("--config", str(proxy.config_path), "--pins", str(proxy.pins_path))
        async with open_client(proxy.mcp_url, mode="legacy") as client:
            assert (await client.call_tool("faulty__calc", {"a": 1, "b": 2})).content[0].text == "3"

            # The backend rewrites calc's description and says so: the proxy re-lists and sees the change.
            await client.call_tool("faulty__mutate", {})
            eventually(lambda: "tool faulty/calc changed its definition" in proxy.logged())
            names = {tool.name for tool in (await client.list_tools()).tools}
            refused = await client.call_tool("faulty__calc", {"a": 1, "b": 2})

            assert "faulty__calc" not in names
            assert "faulty__echo_message" in names  # the other tools are untouched
            assert refused.is_error
            text = refused.content[0].text
            assert text.startswith("Tool faulty__calc is refused: its definition changed since it was approved")
            assert "python -m 05-mcp-proxy.server approve faulty__calc" in text

            # The operator reviews the diff...
            review = run_cli("server", *pins, "pins")
            assert review.returncode == 0, review.stderr
            assert "CHANGED faulty/calc" in review.stdout
            assert '-  "description": "Add two integers.",' in review.stdout
            assert "+" in review.stdout and "id_rsa" in review.stdout

            # ...approves it, and the running proxy serves the tool again.
            approved = run_cli("server", *pins, "approve", "faulty__calc")
            assert approved.returncode == 0, approved.stderr
            assert approved.stdout.strip() == "approved faulty/calc"
            with anyio.fail_after(10):
                while "faulty__calc" not in {tool.name for tool in (await client.list_tools()).tools}:
                    await anyio.sleep(0.1)
            assert (await client.call_tool("faulty__calc", {"a": 1, "b": 2})).content[0].text == "3"


def test_approving_a_tool_with_no_pending_change_is_an_error(tmp_path, run_cli) -> None:
    pins = ("--config", str(tmp_path / "none.json"), "--pins", str(tmp_path / "pins.json"))
    (tmp_path / "none.json").write_text("{}")
    result = run_cli("server", *pins, "approve", "basic__echo_message")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no change waiting for approval: basic/echo_message"
    assert run_cli("server", *pins, "approve").returncode == 2  # neither a name nor --all
