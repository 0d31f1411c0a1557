"""What the server writes in its log: never a secret a client sent, even one sent where it does not belong.

This server takes no token, but a client may be set up to send one, and some put it in the URL
(`/mcp?access_token=...`, which the MCP authorization spec forbids). uvicorn's access log writes
each request's path at info, the default level: the server writes `?...` in place of a query
(server/logs.py).
"""

import httpx2

from lesson01.tests.support.waiting import eventually

PASTED = "pasted-into-a-url-0001"  # a token a client put in the URL
ACCESS_LINE = '"POST /mcp?'  # how the access line of such a request starts, with or without its query


def test_a_token_in_the_url_is_not_written_in_the_access_log(server) -> None:
    queries = [f"?token={PASTED}", f"?access_token={PASTED}&state=x", f"?api_key={PASTED}"]
    before = server.log_path.read_text().count(ACCESS_LINE)
    ping, accept = {"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"Accept": "application/json, text/event-stream"}
    for query in queries:
        httpx2.post(server.mcp_url + query, json=ping, headers=accept, timeout=10)

    def every_access_line() -> bool:
        return server.log_path.read_text().count(ACCESS_LINE) >= before + len(queries)

    eventually(every_access_line, 10, "an access line for each request")
    log = server.log_path.read_text()
    assert PASTED not in log
    assert log.count('"POST /mcp?... HTTP/1.1"') >= len(queries)
