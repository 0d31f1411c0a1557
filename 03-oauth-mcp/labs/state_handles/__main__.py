"""State handle hijacking, run twice: against draft handles that are plain numbers, then production's sealed ones.

    python -m 03-oauth-mcp.labs.state_handles

The 2026-07-28 protocol has no sessions: a server that keeps state across calls names it with a
handle, which the client passes back as an argument. Production's draft tools do (production/drafts.py):
`start_draft` returns one, `add_to_draft` and `publish_draft` take it. Alice starts a draft. Bob, a
user of the same server with a valid token of his own, makes up a handle, uses Alice's (seen in a
shared chat log), and alters one he was given. Lesson 03's side runs as production runs it: two
replicas that share a database and a key file, and nothing else (03-oauth-mcp/tests/test_state_handles.py
runs them as two processes). The servers run in the lab's own process, on 127.0.0.1, and stop at the end.
"""

import tempfile
from contextlib import ExitStack
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import Any

LESSON = "03-oauth-mcp"
stage = import_module(f"{LESSON}.labs.stage")
said = stage.said

DIARY = "Dear diary: the new door code is 4711."
HANDLE_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"  # base64url, as sealed handles


def altered(handle: str) -> str:
    """The handle with one character in its middle changed for another it may hold."""
    middle = len(handle) // 2
    other = HANDLE_CHARACTERS[(HANDLE_CHARACTERS.index(handle[middle]) + 1) % len(HANDLE_CHARACTERS)]
    return handle[:middle] + other + handle[middle + 1 :]


async def against_numbers(url: str, alice_token: str, bob_token: str) -> str | None:
    async with stage.session(url, alice_token) as alice, stage.session(url, bob_token) as bob:
        handle = (await said(alice, "start_draft", title="Private"))["handle"]
        added = await said(alice, "add_to_draft", handle=handle, text=DIARY)
        print(f"   Alice starts a draft: handle {handle!r}; she adds a paragraph: {added}")
        own = (await said(bob, "start_draft", title="Mine"))["handle"]
        print(f"   Bob starts a draft of his own: handle {own!r}; so handles count up, and {handle!r} is someone's")
        added = await said(bob, "add_to_draft", handle=handle, text="Bob was here.")
        print(f"   Bob adds to draft {handle!r}: {added}")
        published = await said(bob, "publish_draft", handle=handle)
    content = published["content"].replace("\n\n", " / ") if isinstance(published, dict) else published
    print(f"   Bob publishes draft {handle!r} in his own journal, and reads it: {content}")
    return "Bob wrote into Alice's draft, published it in his own journal and read it" if DIARY in content else None


async def against_sealed(replica_a: str, replica_b: str, alice_token: str, bob_token: str) -> str | None:
    async with (
        stage.session(replica_a, alice_token) as alice,
        stage.session(replica_a, bob_token) as bob,
        stage.session(replica_b, alice_token) as alice_at_b,
    ):
        handle = (await said(alice, "start_draft", title="Private"))["handle"]
        added = await said(alice, "add_to_draft", handle=handle, text=DIARY)
        print(f"   Alice starts a draft at replica A: a sealed handle, {handle[:3]}…; she adds a paragraph: {added}")
        own = (await said(bob, "start_draft", title="Mine"))["handle"]
        attempts = {
            "Bob makes up a handle, '1'": "1",
            "Bob uses Alice's handle, seen in a shared chat log": handle,
            "Bob alters one character of the handle he was given for his own draft": altered(own),
        }
        got = []
        for attempt, tried in attempts.items():
            answer = await said(bob, "add_to_draft", handle=tried, text="Bob was here.")
            print(f"   {attempt}: {answer}")
            got += [] if answer.startswith("refused: ") else [attempt]
        added = await said(alice_at_b, "add_to_draft", handle=handle, text="(signed, A.)")
        print(f"   Alice adds to her draft at replica B: {added}")
        entry = await said(alice_at_b, "publish_draft", handle=handle)
        print(f"   Alice publishes it at replica B: entry {entry['id']} {entry['title']!r}, in her journal")
        bobs = await said(bob, "list_entries")
    print(f"   Bob's journal: {len(bobs)} entries")
    return "Bob reached a draft not his own" if got or bobs else None


def replica(issuer: str, resource: str, db: str, key_file: Path) -> Any:
    """One replica of production's MCP server, as `python -m 03-oauth-mcp.production.server --db DB
    --handle-key-file KEY_FILE` makes it: what it shares with another is the database and the key file."""
    drafts, handles = (import_module(f"{LESSON}.production.{name}") for name in ("drafts", "handles"))
    journal = import_module(f"{LESSON}.production.journal").DatabaseJournal(db)
    seal = handles.SealedHandles(handles.handle_key(key_file), resource, drafts.DRAFT_SECONDS)
    tools = partial(drafts.add_draft_tools, drafts=drafts.DatabaseDrafts(db, seal))
    return stage.mcp_server(issuer, resource, journal, tools)


def numbered(issuer: str, resource: str) -> Any:
    """The lesson's MCP server with the same draft tools, over the vulnerable variant's store."""
    drafts = import_module(f"{LESSON}.production.drafts")
    store = import_module(f"{LESSON}.labs.state_handles.vulnerable").NumberedDrafts()
    return stage.mcp_server(issuer, resource, tools=partial(drafts.add_draft_tools, drafts=store))


def main() -> None:
    print(
        "State handles: Alice writes a draft over several calls, through the handle start_draft gave her;"
        " Bob, another user with a token of his own, tries to reach it.",
        flush=True,  # at once: the servers take a second or two to start
    )
    import anyio  # imported only now: the lab has said what it does

    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        issuer_port, numbers_port, a_port, b_port = (stage.free_port() for _ in range(4))
        issuer, numbers = f"http://127.0.0.1:{issuer_port}", f"http://127.0.0.1:{numbers_port}/mcp"
        replica_a, replica_b = f"http://127.0.0.1:{a_port}/mcp", f"http://127.0.0.1:{b_port}/mcp"
        resource = replica_a  # the journal's URL, the audience of its tokens: both replicas answer for it
        db, key_file = f"{state}/journal.db", Path(state) / "handle.key"
        servers = [
            (stage.authorization_server(issuer, Path(state) / "auth.db", numbers, resource), issuer_port),
            (numbered(issuer, numbers), numbers_port),
            (replica(issuer, resource, db, key_file), a_port),
            (replica(issuer, resource, db, key_file), b_port),
        ]
        stack.enter_context(stage.serving(*servers))

        print("1. Draft handles that are numbers, bound to no one (labs/state_handles/vulnerable.py):")
        alice, bob = (stage.user_token(issuer, numbers, user) for user in stage.USERS)
        stage.verdict(anyio.run(against_numbers, numbers, alice, bob))
        print("2. Production's handles, sealed for their user (production/handles.py), at two replicas:")
        alice, bob = (stage.user_token(issuer, resource, user) for user in stage.USERS)
        stage.verdict(
            anyio.run(against_sealed, replica_a, replica_b, alice, bob),
            "handles sealed for their user (production/handles.py, drafts.py)",
            "a made-up, a replayed and an altered handle were refused alike, and Alice's handle served her at both "
            "replicas",
        )


if __name__ == "__main__":
    main()
