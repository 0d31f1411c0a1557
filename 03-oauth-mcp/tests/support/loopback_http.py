"""A stand-in web server's lifetime: serving on a background thread for the length of a `with` block.

The stand-ins (issuer.py, document_server.py, fake_github.py, an upstream API in a test) are
`http.server` handlers on a free loopback port, in the test process itself: what differs is what
they answer, not how they run. Most answer JSON, through `JsonHandler.reply`.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    """A stand-in's handler that answers JSON, and keeps the test output clean (no access log)."""

    def reply(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def loopback_server(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """`handler` on 127.0.0.1, on a port the system chooses (`server.server_address[1]`)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True  # a client that holds a connection open does not hold up the end
    return server


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[None]:
    """Answer requests until the block ends; then stop, and free the port."""
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
