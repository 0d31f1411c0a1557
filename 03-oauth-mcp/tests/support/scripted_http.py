"""A loopback web server that answers each path with the bytes a test scripted: any party's hostile answer.

It stands in for whoever the authorization server reads JSON from: a client publishing its metadata
document (optional/cimd.py), or GitHub (optional/github.py, `--github-url`). Unlike document_server.py, which
publishes well-formed documents, it sends exactly the bytes it is given: thirty thousand `[`, a
number where an object belongs, bytes that are not UTF-8. A path not scripted answers 404.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from . import loopback_http


@dataclass(frozen=True)
class Answer:
    body: bytes
    status: int = 200
    content_type: str = "application/json"


class ScriptedServer:
    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}  # by path, without the query
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                path = self.path.split("?", 1)[0]
                outer.requests.append((self.command, path))
                if length := int(self.headers.get("Content-Length") or 0):
                    self.rfile.read(length)
                scripted = outer.answers.get(path, Answer(b"{}", 404))
                self.send_response(scripted.status)
                self.send_header("Content-Type", scripted.content_type)
                self.send_header("Content-Length", str(len(scripted.body)))
                self.end_headers()
                self.wfile.write(scripted.body)

            do_GET = do_POST = answer  # http.server calls do_<METHOD>

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = loopback_http.loopback_server(Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def script(self, path: str, body: bytes, status: int = 200) -> str:
        """Answer `path` with `body` from now on; its URL."""
        self.answers[path] = Answer(body, status)
        return f"{self.url}{path}"

    @contextmanager
    def running(self) -> Iterator["ScriptedServer"]:
        with loopback_http.serving(self.httpd):
            yield self
