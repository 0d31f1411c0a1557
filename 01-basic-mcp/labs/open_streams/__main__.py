"""Open connections via SSE, run twice: against a server with no stream limits, and against lesson 01's.

    python -m 01-basic-mcp.labs.open_streams

The attacker opens 40 sessions, then a server-to-client stream in each (GET /mcp), and holds
them all. Both servers run as on a small machine, allowed 32 open files (`ulimit -n 32`), so
that 40 streams do to them what tens of thousands would do to a real server. Everything runs
on 127.0.0.1 and stops at the end.
"""

from contextlib import AsyncExitStack
from importlib import import_module

import anyio
import httpx2

LESSON = "01-basic-mcp"
stage = import_module(f"{LESSON}.labs.stage")

STREAMS = 40
MAX_OPEN_FILES = 32
OUT_OF_FILES = "Too many open files"  # what the server logs when it cannot accept a connection
LIMITS = ("--max-streams", "8", "--stream-timeout", "2")
ACCEPT = {"Accept": "application/json, text/event-stream"}
PROTOCOL_VERSION = "2025-11-25"  # the handshake era: a session, then a GET stream in it


async def open_session(http: httpx2.AsyncClient) -> dict[str, str]:
    """Initialize a session; the headers every request in it carries."""
    hello = {
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "attacker", "version": "0"},
    }
    initialize = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello}
    answer = await http.post("/mcp", headers=ACCEPT, json=initialize)
    headers = {**ACCEPT, "Mcp-Session-Id": answer.headers["mcp-session-id"], "MCP-Protocol-Version": PROTOCOL_VERSION}
    await http.post("/mcp", headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    return headers


async def hold_streams(held: AsyncExitStack, server: "stage.Server") -> list[httpx2.Response]:
    """Open the sessions, then a stream in each, one by one; the streams stay open until `held` closes.

    A server out of file descriptors accepts no more connections, so a request to it is never
    answered: the attacker stops as soon as the server's log says so.
    """
    http = await held.enter_async_context(httpx2.AsyncClient(base_url=server.base_url, timeout=10))
    sessions = [await open_session(http) for _ in range(STREAMS)]
    answers = []
    for headers in sessions:
        answer = None
        async with anyio.create_task_group() as race:
            race.start_soon(notice_out_of_files, server, race.cancel_scope)
            answer = await held.enter_async_context(http.stream("GET", "/mcp", headers=headers))
            race.cancel_scope.cancel()
        if answer is None:  # the server ran out of files before it answered
            break
        if answer.status_code != 200:
            await answer.aread()  # a refusal is a whole answer, not a stream
        answers.append(answer)
    return answers


async def notice_out_of_files(server: "stage.Server", scope: anyio.CancelScope) -> None:
    while OUT_OF_FILES not in server.logged():
        await anyio.sleep(0.05)
    scope.cancel()


async def a_new_client(url: str, timeout: float) -> str:
    """What a client that arrives now gets from the server: a tool's answer, or nothing."""
    from mcp import Client  # only now: the lab has said what it does, before the second the SDK takes
    from mcp.client.streamable_http import streamable_http_client

    outcome = "no answer: the server cannot accept its connection"
    try:
        async with (
            httpx2.AsyncClient(timeout=timeout) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            result = await client.call_tool("echo_message", {"message": "still here"})
        outcome = f"echo_message -> {result.structured_content['result']!r}"
    except* httpx2.TimeoutException:
        pass  # the outcome above
    return outcome


async def lab() -> None:
    print(f"Each server runs as on a small machine, allowed {MAX_OPEN_FILES} open files (ulimit -n {MAX_OPEN_FILES}).")

    vulnerable = f"{LESSON}.labs.open_streams.vulnerable"
    lesson = f"{LESSON}.server", "-t", "http", *LIMITS
    with (
        stage.started(vulnerable, max_open_files=MAX_OPEN_FILES) as unbounded,
        stage.started(*lesson, max_open_files=MAX_OPEN_FILES) as bounded,
    ):
        print("1. Lesson 01's server as the SDK and uvicorn serve it by default (labs/open_streams/vulnerable.py):")
        async with AsyncExitStack() as held:
            await hold_streams(held, unbounded.wait_until_healthy())
            print(f"   the attacker holds stream after stream, until the server logs: {OUT_OF_FILES}")
            # The server's log says it accepts no connection: no answer is coming, no need to wait long.
            served = await a_new_client(unbounded.mcp_url, timeout=0.5)
            print(f"   a new client: {served}")
            stage.verdict(
                None
                if served.startswith("echo_message")
                else "the server is down for everyone: it accepts no connection"
            )

        print(f"2. Lesson 01's server with {' '.join(LIMITS)} (server/streams.py BoundedStreams):")
        async with AsyncExitStack() as held:
            answers = await hold_streams(held, bounded.wait_until_healthy())
            opened = [answer for answer in answers if answer.status_code == 200]
            refusals = [f"{one.status_code} {one.json()['error']['message']}" for one in answers if one not in opened]
            kinds = "; ".join(sorted(set(refusals)))
            print(f"   the attacker's streams: {len(opened)} open, {len(refusals)} refused: {kinds}")
            served = await a_new_client(bounded.mcp_url, timeout=10)
            print(f"   a new client: {served}")
            for stream in opened:
                await stream.aread()  # until the server ends it
            print(f"   {LIMITS[-1]} s after each stream opened, the server ended it: the attacker holds none")
            stage.verdict(
                None if served.startswith("echo_message") else "the server is down for everyone",
                "BoundedStreams (server/streams.py)",
                f"at most {LIMITS[1]} streams at once, each for {LIMITS[-1]} s: every other client is still served",
            )


def main() -> None:
    print(
        f"Open streams: the attacker opens {STREAMS} sessions, then a stream in each (GET /mcp), and holds them.",
        flush=True,  # at once: the servers take a second to start
    )
    anyio.run(lab)


if __name__ == "__main__":
    main()
