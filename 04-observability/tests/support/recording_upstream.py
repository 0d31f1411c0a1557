"""An upstream API that remembers the Authorization and Cookie headers of every request it gets.

The MCP server masks the token in what it returns, so only the upstream itself can show that
the whole token arrived. It answers like the lesson's echo upstream (httpbin's `/anything`),
from a thread of the test process, and like many web APIs it sets a session cookie for
whoever called, which the server's one shared client must not send with the next call. A
`message` starting with "refuse" gets 401 and a session cookie no log may keep.
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
    url: str = ""
    authorizations: list[str | None] = field(default_factory=list)
    cookies: list[str | None] = field(default_factory=list)


@contextmanager
def recording_upstream() -> Iterator[RecordingUpstream]:
    recorder = RecordingUpstream()

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
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as http:
        recorder.url = f"http://127.0.0.1:{http.server_address[1]}/anything"
        Thread(target=http.serve_forever, daemon=True).start()
        yield recorder
        http.shutdown()
