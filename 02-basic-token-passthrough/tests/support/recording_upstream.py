"""A stand-in for the echo upstream that remembers the Authorization and Cookie headers of every request.

The MCP server masks the token in what it returns, so only the upstream itself can show that the
whole token arrived. Like many web APIs, it also sets a session cookie for whoever called, which
a client shared by every caller must not send on with the next caller's request. It runs on a
thread of the test process, so a test reads what it recorded.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from urllib.parse import parse_qs, urlsplit

# The session an upstream opens for a caller, in the cookie it sets on a refusal: a secret no log may keep.
REFUSAL_SESSION = "upstream-session-7f3a9c"


@dataclass
class RecordingUpstream:
    url: str  # what the MCP server's --upstream-url points at
    authorizations: list[str | None] = field(default_factory=list)
    cookies: list[str | None] = field(default_factory=list)


@contextmanager
def start() -> Iterator[RecordingUpstream]:
    """Serve on a free loopback port until the block ends, answering like the echo upstream's /anything."""
    recorder = RecordingUpstream(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            recorder.authorizations.append(self.headers.get("Authorization"))
            recorder.cookies.append(self.headers.get("Cookie"))
            args = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
            if args.get("message", "").startswith("refuse"):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
                self.send_header("Set-Cookie", f"session={REFUSAL_SESSION}; Path=/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = json.dumps({"args": args, "headers": dict(self.headers.items())}).encode()
            self.send_response(200)
            caller = "".join(c if c.isalnum() else "-" for c in args.get("message", ""))[:20]
            self.send_header("Set-Cookie", f"session={caller}; Path=/")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass  # keep the test output clean

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as http:
        recorder.url = f"http://127.0.0.1:{http.server_address[1]}/anything"
        Thread(target=http.serve_forever, daemon=True).start()
        try:
            yield recorder
        finally:
            http.shutdown()
