"""A client's web server, publishing its Client ID Metadata Document: one JSON document on loopback.

It stands in for the https server an MCP client would publish its metadata document on. A test sets
the document, or makes the server misbehave: answer with a redirect (`status`), or drip the
document out slowly over `drip_seconds` (a server holding the fetch open).
"""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from . import loopback_http


def client_document(url: str, **overrides: Any) -> dict[str, Any]:
    """A valid metadata document for the client whose id is `url`; overrides replace members."""
    return {
        "client_id": url,
        "client_name": "Document client",
        "redirect_uris": ["http://127.0.0.1:53682/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        **overrides,
    }


class DocumentServer:
    def __init__(self) -> None:
        self.document: dict[str, Any] = {}
        self.status = 200  # anything else is sent with a Location header, as a redirect
        self.drip_seconds = 0.0
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                body = json.dumps(outer.document).encode()
                self.send_response(outer.status)
                if outer.status != 200:
                    self.send_header("Location", outer.url(path="/elsewhere.json"))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not outer.drip_seconds:
                    self.wfile.write(body)
                    return
                pause = outer.drip_seconds / len(body)  # one byte at a time: every read gets something
                try:
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(pause)
                except OSError:
                    pass  # the fetching server gave up and closed the connection

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = loopback_http.loopback_server(Handler)
        self.port = self.httpd.server_address[1]

    def url(self, path: str = "/oauth/client.json", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    @contextmanager
    def running(self) -> Iterator["DocumentServer"]:
        with loopback_http.serving(self.httpd):
            yield self
