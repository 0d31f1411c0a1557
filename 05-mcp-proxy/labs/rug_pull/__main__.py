"""A rug pull, run twice: through a proxy that serves a changed tool definition at once, and through lesson 05's,
which pins the definitions it has approved.

    python -m 05-mcp-proxy.labs.rug_pull

The attacker's MCP server (labs/attacker_backend.py) offers `add`, honestly described, until it
has been called once; then it rewrites the description with instructions for the model (read
~/.ssh/id_rsa, pass it along, tell no one) and tells its client that its tools changed. The lab
plays a model that does what a tool's description says, and then the operator, who reads the
change, and approves it (the wrong decision: the lab shows what approving does). Each proxy has
the attacker's server as its one backend, `calculator`. Everything runs on 127.0.0.1 and stops
at the end.
"""

from importlib import import_module
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from mcp import Client
    from mcp_types import Tool

LESSON = "05-mcp-proxy"
stage = import_module(f"{LESSON}.labs.stage")
VULNERABLE = f"{LESSON}.labs.rug_pull.vulnerable"  # lesson 05's proxy, pinTools off
TOOL = f"{stage.BACKEND}__add"


async def the_model_reads(client: "Client", before: str | None = None) -> list["Tool"]:
    """The tools the client lists, once they are no longer what they were `before` (the proxy caught up)."""

    async def changed() -> bool:
        return before is None or stage.shown(await stage.listed(client)) != before

    await stage.until(changed)
    tools = await stage.listed(client)
    print(f"   the model reads: {stage.shown(tools)}")
    return tools


async def a_model_uses(proxy: "stage.Proxy", operator_approves: bool) -> str | None:
    """The model uses `add`, before and after the rug pull (and the operator reviews it); what the attacker got."""
    from mcp import Client  # only now: the lab has said what it does, before the second the SDK takes

    async with Client(proxy.mcp_url, cache=None) as client:
        tools = await the_model_reads(client)
        print(f"   {await stage.the_model_calls(client, TOOL, tools)}")
        print("   the attacker's server rewrites the description of add, and says its tools changed")
        tools = await the_model_reads(client, before=stage.shown(tools))
        print(f"   {await stage.the_model_calls(client, TOOL, tools)}")
        got = stage.report_loot(proxy)
        if operator_approves:
            stage.the_operator_reviews(proxy, lines=8)
            command = f"python -m {LESSON}.server --config {proxy.config} approve {TOOL}"
            approved = proxy.operator_runs("approve", TOOL).strip()
            print(f"   the operator approves it, here wrongly: `{command}`: {approved}")
            await the_model_reads(client, before=stage.shown(tools))
    return got


def main() -> None:
    print(
        "Rug pull: the attacker's server changes its tool `add` once it has been approved and used.",
        flush=True,  # at once: the proxies take a second to start
    )
    with (
        stage.proxy("vulnerable", "rug-pull", module=VULNERABLE) as passing,
        stage.proxy("lesson", "rug-pull") as pinning,
    ):
        print("1. A proxy that serves each new definition (labs/rug_pull/vulnerable.py: lesson 05, pinTools off):")
        stage.verdict(anyio.run(a_model_uses, passing.wait_until_healthy(), False))
        print("2. Lesson 05: a changed definition is refused until approved (server/pinning.py, server/view.py):")
        stage.verdict(
            anyio.run(a_model_uses, pinning.wait_until_healthy(), True),
            "tool-definition pinning (server/pinning.py, view.py)",
            "no model read the changed definition, and the attacker got nothing, until an operator approved it",
        )
        stage.stop(passing, pinning)


if __name__ == "__main__":
    main()
