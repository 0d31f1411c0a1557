"""A stand-in web server's lifetime: serving on a background thread for the length of a `with` block.

The stand-ins (issuer.py, document_server.py, fake_github.py) are `http.server` handlers on a free
loopback port, in the test process itself: what differs is what they answer, not how they run.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread


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
