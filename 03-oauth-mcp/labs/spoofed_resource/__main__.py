"""A server that claims to be another, run twice: against a client that believes it, and against lesson 03's.

    python -m 03-oauth-mcp.labs.spoofed_resource

The attacker's MCP server publishes protected resource metadata naming the *honest* MCP server as
its resource. The user connects the client to the attacker's server and logs in at the honest
authorization server, which sees a request for the honest server and issues a token for it. The
servers run in the lab's own process, on 127.0.0.1, and stop at the end.
"""

import logging
import tempfile
from contextlib import ExitStack
from importlib import import_module
from pathlib import Path

LESSON = "03-oauth-mcp"
stage = import_module(f"{LESSON}.labs.stage")


def main() -> None:
    print("Spoofing: the impostor's resource metadata claims to be the honest MCP server.", flush=True)
    import anyio  # imported only now: the lab has said what it does
    from mcp.client.auth import OAuthFlowError

    logging.getLogger("mcp.client.auth").setLevel(logging.CRITICAL)  # the lab reports each outcome itself
    oauth = import_module(f"{LESSON}.client.oauth")
    LoopbackCallback = import_module(f"{LESSON}.client.callback").LoopbackCallback
    FileTokenStorage = import_module(f"{LESSON}.client.token_storage").FileTokenStorage
    BelievingProvider = import_module(f"{LESSON}.labs.spoofed_resource.vulnerable").BelievingProvider
    Impostor = import_module(f"{LESSON}.labs.spoofed_resource.impostor").Impostor

    async def connect(provider_class: type, mcp_url: str, token_file: Path) -> str:
        storage = FileTokenStorage(token_file, mcp_url)
        provider = provider_class(mcp_url, storage, LoopbackCallback(0), open_page=stage.open_in_browser)
        outcome = "connected"
        try:
            async with stage.signed_in(mcp_url, provider):
                pass
        except* OAuthFlowError as refusal:
            outcome = f"refused: {refusal.exceptions[0]}"
        except* Exception:  # the impostor answers 401 to every token: the session never opens
            outcome = "gave the impostor its token"
        return outcome

    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        issuer_port, honest_port = stage.free_port(), stage.free_port()
        issuer, honest_url = f"http://127.0.0.1:{issuer_port}", f"http://127.0.0.1:{honest_port}/mcp"
        servers = [
            (stage.authorization_server(issuer, Path(state) / "a.db", honest_url), issuer_port),
            (stage.mcp_server(issuer, honest_url), honest_port),
        ]
        stack.enter_context(stage.serving(*servers))
        impostor = Impostor(honest_url, issuer)
        stack.callback(impostor.stop)
        names = {honest_url: "the honest MCP server", f"{impostor.url}/mcp": "the impostor"}

        def named(outcome: str) -> str:
            for url, name in names.items():
                outcome = outcome.replace(url, name)
            return outcome

        print("1. A client that believes the metadata (labs/spoofed_resource/vulnerable.py):")
        anyio.run(connect, BelievingProvider, f"{impostor.url}/mcp", Path(state) / "a.json")
        print("   the client asks for a token for the honest MCP server; the user approves a genuine request")
        stolen = sorted({identity.get("subject") for identity in impostor.stolen})
        replayed = ", ".join(map(repr, stolen)) or "nothing"
        print(
            "   the client sends the token to the impostor, which replays it at the honest MCP server:"
            f" whoami -> {replayed}"
        )
        stage.verdict(f"the impostor acted as {stolen[0]!r} at the honest MCP server" if stolen else None)

        print("2. Lesson 03's client: the SDK checks that the resource is the URL it talks to (RFC 9728 §3.3):")
        impostor.stolen.clear()
        outcome = anyio.run(connect, oauth.CheckedOAuthProvider, f"{impostor.url}/mcp", Path(state) / "b.json")
        print(f"   the client: {named(outcome)}")
        print(f"   the impostor: received {'a token' if impostor.stolen else 'no token'}")
        stage.verdict(
            "the impostor received a token" if impostor.stolen else None,
            "the SDK's resource check (RFC 9728 §3.3, kept by client/oauth.py)",
            "the client refused the metadata before the user was sent to log in, and the impostor got no token",
        )


if __name__ == "__main__":
    main()
