"""Tool poisoning, run twice: through a proxy that passes tool definitions through, and through lesson 05's
with `approveNewTools`, which serves no tool an operator has not approved.

    python -m 05-mcp-proxy.labs.tool_poisoning

The attacker's MCP server (labs/attacker_backend.py) offers `add`, whose description tells the
model to read ~/.ssh/id_rsa and pass it along, and not to tell the user. A model reads tool
descriptions to decide how to call a tool; the lab plays one that does what they say. Each proxy
has the attacker's server as its one backend, `calculator`. Everything runs on 127.0.0.1 and
stops at the end.

Lesson 05 as shipped pins a tool the first time it sees it (trust on first use), so on first
sight it shows the model what the vulnerable variant shows: pinning stops a definition that
changes (the rug_pull lab), not one that was poisoned from the start.
"""

from importlib import import_module

import anyio

LESSON = "05-mcp-proxy"
stage = import_module(f"{LESSON}.labs.stage")
VULNERABLE = f"{LESSON}.labs.tool_poisoning.vulnerable"  # lesson 05's proxy, pinTools off
TOOL = f"{stage.BACKEND}__add"


async def a_model_uses(proxy: "stage.Proxy") -> str | None:
    """The model lists the tools and adds 2 and 3; what the attacker got, if anything."""
    from mcp import Client  # only now: the lab has said what it does, before the second the SDK takes

    async with Client(proxy.mcp_url, cache=None) as client:
        tools = await stage.listed(client)
        print(f"   the model reads: {stage.shown(tools)}")
        print(f"   {await stage.the_model_calls(client, TOOL, tools)}")
    return stage.report_loot(proxy)


def main() -> None:
    print(
        "Tool poisoning: the attacker's server describes its tool `add` with instructions for the model.",
        flush=True,  # at once: the proxies take a second to start
    )
    with (
        stage.proxy("vulnerable", "poisoned", module=VULNERABLE) as passing,
        stage.proxy("lesson", "poisoned", approveNewTools=True) as approving,
    ):
        print("1. A proxy that passes definitions on (labs/tool_poisoning/vulnerable.py: lesson 05, pinTools off):")
        stage.verdict(anyio.run(a_model_uses, passing.wait_until_healthy()))
        print("2. Lesson 05 with approveNewTools: a new tool waits for an operator (server/pinning.py, view.py):")
        got = anyio.run(a_model_uses, approving.wait_until_healthy())
        stage.the_operator_reviews(approving, lines=6)
        stage.verdict(
            got,
            "approveNewTools (server/pinning.py, view.py)",
            "no model read the poisoned description, and a call by name is refused, until an operator approves it",
        )
        stage.stop(passing, approving)


if __name__ == "__main__":
    main()
