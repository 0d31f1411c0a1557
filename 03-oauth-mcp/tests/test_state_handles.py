"""State handles (production/handles.py, drafts.py): a draft's handle serves its user, at every replica, no one else.

The 2026-07-28 protocol has no sessions, so state that spans calls is named by a handle the client
passes back (MCP security best practices, "State Handle Hijacking"). Two replicas of production's
MCP server, real processes started at the same moment, share a new SQLite file and a new
`--handle-key-file`, and nothing else: whichever creates the key, both must use the same one. The
stand-in issuer (support/issuer.py) mints Alice's and Bob's tokens. Bob has a token of his own and
tries a handle he made up, Alice's, and one of his own with a character changed: each is refused with
the same words, at either replica, and the logs never hold a handle. docs/security.md lab 13 shows the
same attack against handles that are plain numbers.
"""

import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from lesson03.production.handles import InvalidHandle, SealedHandles, handle_key
from lesson03.tests.support import processes, replicas

REFUSAL = "Unknown or expired draft handle: start a new draft with start_draft"
WRITER = "journal:read journal:write"


@pytest.fixture(scope="module")
def two_replicas(test_issuer, tmp_path_factory):
    """Two production servers on one journal database and one handle key file, answering for one resource."""
    state = tmp_path_factory.mktemp("handles")
    port = processes.free_port()
    resource = f"http://127.0.0.1:{port}/mcp"  # the public URL both answer for, as behind a load balancer
    shared = ("--transport", "http", "--issuer", test_issuer.url, "--resource", resource)
    shared += ("--db", str(state / "journal.db"), "--handle-key-file", str(state / "handle.key"))
    launches = replicas.Launch("production.server", shared, port), replicas.Launch("production.server", shared)
    with replicas.started_together(*launches) as both:
        yield both, resource, state / "handle.key"


def altered(handle: str) -> str:
    middle = len(handle) // 2
    return handle[:middle] + ("A" if handle[middle] != "A" else "B") + handle[middle + 1 :]


def test_a_draft_handle_serves_its_user_at_both_replicas_and_no_one_else(two_replicas, test_issuer) -> None:
    (a, b), resource, key_file = two_replicas
    alice, bob = (test_issuer.mint(resource, user, WRITER) for user in ("alice", "bob"))

    async def calls() -> dict:
        seen: dict = {}
        async with (
            client(a.mcp_url, alice) as alice_at_a,
            client(b.mcp_url, alice) as alice_at_b,
            client(a.mcp_url, bob) as bob_at_a,
            client(b.mcp_url, bob) as bob_at_b,
        ):
            handle = (await alice_at_a.call_tool("start_draft", {"title": "Private"})).structured_content["handle"]
            await alice_at_a.call_tool("add_to_draft", {"handle": handle, "text": "door code 4711"})
            own = (await bob_at_a.call_tool("start_draft", {"title": "Mine"})).structured_content["handle"]
            seen["handles"] = handle, own
            seen["bob"] = [
                await bob_at.call_tool(tool, {"handle": tried, **extra})
                for bob_at in (bob_at_a, bob_at_b)
                for tried in ("1", handle, altered(own), handle + "A", "")
                for tool, extra in (("add_to_draft", {"text": "Bob was here."}), ("publish_draft", {}))
            ]
            added = await alice_at_b.call_tool("add_to_draft", {"handle": handle, "text": "signed, A."})
            seen["alice_at_b"] = added.content[0].text
            seen["published"] = (await alice_at_b.call_tool("publish_draft", {"handle": handle})).structured_content
            seen["again"] = await alice_at_a.call_tool("add_to_draft", {"handle": handle, "text": "too late"})
            seen["bobs_journal"] = (await bob_at_b.call_tool("list_entries", {})).structured_content
            seen["alices_journal"] = (await alice_at_a.call_tool("list_entries", {})).structured_content
        return seen

    seen = anyio.run(calls)
    for answer in seen["bob"]:
        assert answer.is_error, answer
        assert answer.content[0].text.endswith(REFUSAL), answer.content[0].text  # the same words, whatever the reason
    assert seen["alice_at_b"] == "The draft has 2 paragraphs"  # made at A, continued at B: one key, one database
    assert seen["published"]["content"] == "door code 4711\n\nsigned, A."
    assert seen["again"].is_error  # published: the handle outlives its draft, and names nothing now
    assert seen["bobs_journal"] == {"result": []}
    assert [entry["title"] for entry in seen["alices_journal"]["result"]] == ["Private"]
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    for replica in (a, b):  # a handle is a capability: no log holds one
        log = replica.logged()
        assert "refused a draft handle from bob: sealed for another user" in log or replica is b
        assert not any(handle in log for handle in seen["handles"])


@asynccontextmanager
async def client(url: str, token: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(10)) as http,
        Client(streamable_http_client(url, http_client=http)) as connected,
    ):
        yield connected


def test_a_handle_expires_and_belongs_to_one_user_one_server_and_one_key() -> None:
    key, resource = os.urandom(32), "http://127.0.0.1:1/mcp"
    handles, expiring = SealedHandles(key, resource, ttl=60), SealedHandles(key, resource, ttl=-1)
    handle, expired = handles.mint("draft", "d1", "alice"), expiring.mint("draft", "d1", "alice")
    assert handles.open("draft", handle, "alice") == "d1"
    refused = [
        lambda: handles.open("draft", handle, "bob"),  # another user
        lambda: handles.open("note", handle, "alice"),  # another kind of state
        lambda: SealedHandles(key, "http://127.0.0.1:2/mcp", 60).open("draft", handle, "alice"),  # another server
        lambda: SealedHandles(os.urandom(32), resource, 60).open("draft", handle, "alice"),  # another key
        lambda: handles.open("draft", altered(handle), "alice"),  # a changed character
        lambda: handles.open("draft", expired, "alice"),  # its hour is over
    ]
    for attempt in refused:
        with pytest.raises(InvalidHandle, match=r"^Unknown or expired (draft|note) handle$"):
            attempt()
    # Sealed: nothing to read in it, as text or as decoded base64. Names this long never turn up by chance,
    # as two letters such as "d1" do in one handle of a few hundred.
    readable = handles.mint("draft", "draft-of-a-secret-plan", "alice@example.com")
    decoded = base64.urlsafe_b64decode(readable.removeprefix("v1.") + "==")
    assert readable.startswith("v1.")
    for plain in ("draft-of-a-secret-plan", "alice@example.com"):
        assert plain not in readable and plain.encode() not in decoded


def test_the_key_file_is_made_owner_only_once_and_refused_if_others_could_read_it(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "handle.key"
    first = handle_key(path)
    assert handle_key(path) == first and len(first) >= 32
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    path.chmod(0o640)
    with pytest.raises(PermissionError, match="only you can read"):
        handle_key(path)
    (tmp_path / "link.key").symlink_to(path)
    path.chmod(0o600)
    with pytest.raises(OSError):
        handle_key(tmp_path / "link.key")
    short = tmp_path / "short.key"
    short.write_text("too short")
    short.chmod(0o600)
    with pytest.raises(PermissionError, match="at least 32"):
        handle_key(short)
    assert handle_key(None) != handle_key(None)  # without a file: a key of this process
