"""Persistent context misuse, run twice: against a server that keeps the caller's token in a module-level
variable, and against lesson 02's, which keeps it in a context variable.

    python -m 02-basic-token-passthrough.labs.shared_state

Alice and Bob call `make_authenticated_request` at the same time, each with a token of their
own. Bob's request is slow to arrive: the server has read its headers (and stored his token)
when Alice's whole call comes and goes; then the rest of Bob's request arrives, and his tool
runs. Both servers call lesson 02's echo upstream, whose answer shows which token it received
(masked by the server, with the lesson's `mask_token`). Everything runs on 127.0.0.1 and stops
at the end.
"""

from importlib import import_module

import anyio
import httpx2

LESSON = "02-basic-token-passthrough"
stage = import_module(f"{LESSON}.labs.stage")
SlowCaller = import_module(f"{LESSON}.labs.shared_state.slow_caller").SlowCaller
mask_token = import_module(f"{LESSON}.safe_output").mask_token

TOKENS = {"Alice": "alice-secret-token-0042", "Bob": "bobbob-secret-token-0099"}
CALL = ("make_authenticated_request", {"message": "hello upstream"})


async def alice_calls(mcp_url: str) -> dict:
    """Alice's call through the SDK's client, start to finish: what the upstream saw."""
    from mcp import Client  # only now: the lab has said what it does, before the second the SDK takes
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKENS['Alice']}"}) as http,
        Client(streamable_http_client(mcp_url, http_client=http)) as client,
    ):
        return (await client.call_tool(*CALL)).structured_content


def both_call(server: "stage.Server") -> dict[str, dict]:
    bob = SlowCaller(server.mcp_url, TOKENS["Bob"], *CALL)
    bob.send_headers()  # the server has read them, and stored Bob's token where it keeps tokens
    seen = {"Alice": anyio.run(alice_calls, server.mcp_url)}
    seen["Bob"] = bob.send_body()
    return seen


def report(seen: dict[str, dict]) -> str | None:
    """Whose token each call reached the upstream with; what went wrong, if a call used someone else's."""
    owners = {f"Bearer {mask_token(token)}": name for name, token in TOKENS.items()}
    for caller, echo in seen.items():
        owner = owners[echo["headers"]["Authorization"]]
        print(f"   {caller}'s call reached the upstream with {owner}'s token ({mask_token(TOKENS[owner])})")
    used = {caller: owners[echo["headers"]["Authorization"]] for caller, echo in seen.items()}
    wrong = [f"{who}'s call acted upstream with {owner}'s token" for who, owner in used.items() if owner != who]
    return ", and ".join(wrong) or None


def main() -> None:
    print(
        "Persistent context: Alice and Bob call make_authenticated_request at once, each with a token of their own.",
        flush=True,  # at once: the servers take a second to start
    )
    print("Bob's request is slow to arrive: the server has read its headers when Alice's whole call comes and goes.")
    with stage.started(f"{LESSON}.upstream") as upstream:
        upstream_url = f"{upstream.base_url}/anything"
        with (
            stage.started(f"{LESSON}.labs.shared_state.vulnerable", "--upstream-url", upstream_url) as shared,
            stage.started(f"{LESSON}.server", "-t", "http", "--upstream-url", upstream_url) as lesson,
        ):
            upstream.wait_until_healthy()
            print("1. The caller's token in a module-level variable (labs/shared_state/vulnerable.py):")
            stage.verdict(report(both_call(shared.wait_until_healthy())))
            print("2. Lesson 02: the caller's token in a context variable (server/context.py auth_token):")
            stage.verdict(
                report(both_call(lesson.wait_until_healthy())),
                "a context variable per request (server/context.py auth_token)",
                "each call reached the upstream with its own caller's token",
            )


if __name__ == "__main__":
    main()
