"""A made-up X-Forwarded-For changes neither the `client.address` of a server span nor the `origin` the upstream echoes.

uvicorn's default believes that header (and takes the client's address from it) when a request
comes from 127.0.0.1, where the lesson runs: any process on the machine, or anyone behind a local
proxy that passes the header on, could choose the address a trace records. Neither process trusts
a proxy (server/__main__.py and upstream/__main__.py, `proxy_headers=False`).
"""

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from lesson04.tests.support import processes

MADE_UP = "203.0.113.7"  # a documentation address (RFC 5737)


@pytest.mark.anyio
async def test_a_made_up_forwarded_address_is_not_the_client_address_of_the_span(otlp_receiver) -> None:
    # A server of its own: the shared one exports no spans.
    with processes.start_http_server(env={"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint}) as server:
        async with (
            httpx2.AsyncClient(headers={"X-Forwarded-For": MADE_UP}) as http,
            Client(streamable_http_client(server.mcp_url, http_client=http)) as client,
        ):
            await client.call_tool("echo_message", {"message": "from behind a made-up proxy"})
        logged = server.stop()  # which flushes its spans

    def served() -> list:
        return [span for span in otlp_receiver.spans() if span.name == "tools/call echo_message"]

    (span,) = otlp_receiver.wait_for(served, "the server span of tools/call echo_message")
    assert span.attributes["client.address"] == "127.0.0.1"
    assert MADE_UP not in logged


def test_a_made_up_forwarded_address_is_not_the_origin_the_upstream_echoes(echo_upstream) -> None:
    echoed = httpx2.get(f"{echo_upstream.base_url}/anything", headers={"X-Forwarded-For": MADE_UP}, timeout=10)
    assert echoed.json()["origin"] == "127.0.0.1"
