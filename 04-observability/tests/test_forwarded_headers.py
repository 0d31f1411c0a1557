"""A made-up X-Forwarded-For changes neither the `client.address` of a server span nor the `origin` the upstream echoes.

uvicorn's default believes that header (and takes the client's address from it) when a request
comes from 127.0.0.1, where the lesson runs: any process on the machine, or anyone behind a local
proxy that passes the header on, could choose the address a trace records. Neither process trusts
a proxy (server/__main__.py and upstream/__main__.py, `proxy_headers=False`).
"""

import re

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from lesson04.tests.support.waiting import eventually

MADE_UP = "203.0.113.7"  # a documentation address (RFC 5737)


@pytest.mark.anyio
async def test_a_made_up_forwarded_address_is_not_the_client_address_of_the_span(server, telemetry) -> None:
    # The shared server prints its spans to its log, one line each (telemetry.py's console exporter):
    # the span of this call is the SERVER span in the trace the test's client started.
    async with (
        httpx2.AsyncClient(headers={"X-Forwarded-For": MADE_UP}) as http,
        Client(streamable_http_client(server.mcp_url, http_client=http)) as client,
    ):
        await client.call_tool("echo_message", {"message": "from behind a made-up proxy"})
    trace_id = f"{telemetry.span('MCP send tools/call echo_message').context.trace_id:032x}"

    def served() -> str | None:
        span = rf"^span {trace_id} [0-9a-f]{{16}} parent=[0-9a-f]{{16}} SERVER 'tools/call echo_message' .*$"
        found = re.search(span, server.logged(), re.M)
        return found[0] if found else None

    span = eventually(served, 20, "the server span of tools/call echo_message in the server's log")
    assert re.search(r" client\.address=(\S+)", span)[1] == "127.0.0.1"
    assert MADE_UP not in server.logged()


def test_a_made_up_forwarded_address_is_not_the_origin_the_upstream_echoes(echo_upstream) -> None:
    echoed = httpx2.get(f"{echo_upstream.base_url}/anything", headers={"X-Forwarded-For": MADE_UP}, timeout=10)
    assert echoed.json()["origin"] == "127.0.0.1"
