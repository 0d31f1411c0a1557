"""The mix-up attack (RFC 9207), run twice: against a client that does not check `iss`, and against lesson 03's.

    python -m 03-oauth-mcp.labs.mix_up

An MCP client trusts a different authorization server for each MCP server it uses, so one of
them may be the attacker's. The lab serves the lesson's authorization server and MCP server (the
honest ones) and the attacker's MCP server with its authorization server (evil_as.py), then plays
a user who connects the client to the attacker's MCP server and logs in, at the honest login page.
The servers run in the lab's own process, on 127.0.0.1, and stop at the end.
"""

import logging
import tempfile
from contextlib import ExitStack
from importlib import import_module
from pathlib import Path

LESSON = "03-oauth-mcp"
stage = import_module(f"{LESSON}.labs.stage")


def main() -> None:
    print(
        "Mix-up: the user connects the client to the attacker's MCP server and logs in at the honest server.",
        flush=True,  # at once: the servers take a second to start
    )
    import anyio  # imported only now: the lab has said what it does
    from mcp.client.auth import OAuthFlowError

    logging.getLogger("mcp.client.auth").setLevel(logging.CRITICAL)  # the lab reports each outcome itself
    oauth = import_module(f"{LESSON}.client.oauth")
    LoopbackCallback = import_module(f"{LESSON}.client.callback").LoopbackCallback
    FileTokenStorage = import_module(f"{LESSON}.client.token_storage").FileTokenStorage
    AssumingProvider = import_module(f"{LESSON}.labs.mix_up.vulnerable").AssumingProvider
    AttackerServers = import_module(f"{LESSON}.labs.mix_up.evil_as").AttackerServers

    async def connect(provider_class: type, mcp_url: str, token_file: Path, callback_port: int) -> str:
        """The client connects to `mcp_url`, the user logging in when asked; what happened, in a few words."""
        storage = FileTokenStorage(token_file, mcp_url)
        provider = provider_class(mcp_url, storage, LoopbackCallback(callback_port), open_page=stage.open_in_browser)
        outcome = "connected"
        try:
            async with stage.signed_in(mcp_url, provider):
                pass
        except* OAuthFlowError as refusal:
            outcome = f"refused: {refusal.exceptions[0]}"
        return outcome

    callback_port = stage.free_port()
    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        honest_port, resource_port = stage.free_port(), stage.free_port()
        honest, honest_resource = f"http://127.0.0.1:{honest_port}", f"http://127.0.0.1:{resource_port}/mcp"
        servers = [
            (stage.authorization_server(honest, Path(state) / "auth.db", honest_resource), honest_port),
            (stage.mcp_server(honest, honest_resource), resource_port),
        ]
        stack.enter_context(stage.serving(*servers))
        attacker = AttackerServers(honest, honest_resource, f"http://127.0.0.1:{callback_port}/callback")
        stack.callback(attacker.stop)
        names = {honest: "the honest server", attacker.url: "the attacker's server"}

        def took() -> list[str]:
            """What the attacker did with what it got, each step a line; and forget it."""
            steps = []
            for event in attacker.events:
                details = f" as {event['whoami']['subject']!r}" if "whoami" in event else ""
                steps.append(f"{event['event']}{details}")
            attacker.events.clear()
            return steps

        print("1. A client that assumes the code came from the server it sent the user to (labs/mix_up/vulnerable.py):")
        anyio.run(connect, AssumingProvider, f"{attacker.url}/mcp", Path(state) / "a.json", callback_port)
        steps = took()
        if steps:
            print(
                "   the user logs in at the honest server; the client posts the code, with its verifier,"
                " to the attacker"
            )
        print(f"   the attacker: {'; '.join(steps) or 'received no authorization code'}")
        subject = next((step.rpartition(" as ")[2] for step in steps if " as " in step), None)
        stage.verdict(
            f"the attacker redeemed the user's code and acted as {subject} at the honest MCP server"
            if subject
            else None
        )

        print("2. Lesson 03's client (client/oauth.py): the SDK compares `iss` with the issuer it expected:")
        outcome = anyio.run(
            connect, oauth.CheckedOAuthProvider, f"{attacker.url}/mcp", Path(state) / "b.json", callback_port
        )
        for url, name in names.items():
            outcome = outcome.replace(url, name)
        print(f"   the client: {outcome}")
        steps = took()
        print(f"   the attacker: {'; '.join(steps) or 'received no authorization code'}")
        stage.verdict(
            "the attacker received the code" if steps else None,
            "RFC 9207's `iss`, checked by the SDK (client/oauth.py)",
            "the answer named the honest server, not the one the client expected: the code went nowhere",
        )


if __name__ == "__main__":
    main()
