"""A caller whose request reaches the server in two parts: first its headers, later its body.

Requests take time to arrive, and a server starts on one as soon as it has its headers: the
middleware runs, then the application waits for the body. What else the server does meanwhile
is up to the network; this caller makes it certain. It sends `Expect: 100-continue` (RFC 9110
§10.1.1) and waits for the interim `100 Continue`, which uvicorn sends when the application
first asks for the body, so after every middleware has run. Only then does it send the body.
"""

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

MODERN = "2026-07-28"  # one POST per call, no session: the request is the whole conversation


class SlowCaller:
    def __init__(self, mcp_url: str, token: str, tool: str, arguments: dict[str, Any]) -> None:
        self.url = urlsplit(mcp_url)
        meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
        params = {"name": tool, "arguments": arguments, "_meta": meta}
        self.body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}).encode()
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Length": str(len(self.body)),
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": MODERN,
            "Mcp-Method": "tools/call",
            "Mcp-Name": tool,
            "Expect": "100-continue",
        }
        self.connection = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=10)

    def send_headers(self) -> None:
        """Send the headers; return once the server has read them and asks for the body."""
        self.connection.putrequest("POST", self.url.path)
        for name, value in self.headers.items():
            self.connection.putheader(name, value)
        self.connection.endheaders()
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += self.connection.sock.recv(1)
        if not interim.startswith(b"HTTP/1.1 100"):
            raise RuntimeError(f"the server did not ask for the body: {interim!r}")

    def send_body(self) -> dict[str, Any]:
        """Send the body; the tool's result (`structuredContent`) once the server answers."""
        self.connection.send(self.body)
        try:
            answer = self.connection.getresponse()
            text = answer.read().decode()
        finally:
            self.connection.close()
        if answer.getheader("content-type", "").startswith("text/event-stream"):
            text = next(line for line in text.splitlines() if line.startswith("data: ")).removeprefix("data: ")
        return json.loads(text)["result"]["structuredContent"]
