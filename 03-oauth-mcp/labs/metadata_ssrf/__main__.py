"""Server-side request forgery through a client ID metadata document, run twice: against an authorization
server that fetches any URL, and against lesson 03's.

    python -m 03-oauth-mcp.labs.metadata_ssrf

The attacker cannot reach an internal service (here, an "admin" page on this machine that stands
for a database console or a cloud metadata address). The authorization server can. So the attacker
sends it an authorization request whose `client_id` is that service's URL, or the https URL of a
document on a site of the attacker's own that answers with a redirect to the service. That site
stands for a public one: it serves https with a certificate from a throwaway certificate authority
(cimd/certificates.py's), which both servers are told to trust, and lesson 03's server is told that
its host (127.0.0.1) may be fetched, as a developer's own document host is (`--cimd-allow-host`,
`--cimd-ca-file`). The internal service is named `localhost`, which nobody allowed. The vulnerable
variant runs as a process of its own, lesson 03's server in the lab's. Everything runs on this
machine and stops at the end.
"""

import html
import re
import ssl
import tempfile
import threading
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from pathlib import Path
from urllib.parse import urlencode

import httpx2

LESSON = "03-oauth-mcp"
stage = import_module(f"{LESSON}.labs.stage")
make_certificates = import_module(f"{LESSON}.cimd.certificates").make_certificates
SECRET = "db-admin password: hunter2"  # noqa: S105 -- the bait the attacker is after, not a credential


class InternalService:
    """A service only this machine can reach; it counts who asks it for anything."""

    def __init__(self) -> None:
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = SECRET.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_address[1]
        self.url = f"http://localhost:{self.port}/admin"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


class RedirectingSite:
    """The attacker's https site: whatever document is asked for, it answers 302 to `target`."""

    def __init__(self, target: str, certificate: Path, key: Path) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(certificate, key)
        self.http.socket = tls.wrap_socket(self.http.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.http.server_address[1]}/client.json"
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


def report(server: str, service: InternalService, client_id: str, how: str) -> bool:
    """Send the authorization request; print what came of it. Whether the attacker read the secret."""
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
    return SECRET in page.text or service.hits > before


def main() -> None:
    print("SSRF: the attacker names an internal service as its client_id, to make the server fetch it.", flush=True)
    service = InternalService()
    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        ca, certificate, key = make_certificates(Path(state))
        site = RedirectingSite(service.url, certificate, key)
        naive_port, lesson_port = stage.free_port(), stage.free_port()
        started = stack.enter_context(
            stage.launched((f"{LESSON}.labs.metadata_ssrf.vulnerable", naive_port, "--ca-file", str(ca)))
        )
        lesson = f"http://127.0.0.1:{lesson_port}"
        # As `python -m 03-oauth-mcp.auth_server --cimd-allow-host 127.0.0.1 --cimd-ca-file ca.pem` makes it.
        development_host = {"cimd_allow_hosts": frozenset({"127.0.0.1"}), "cimd_ca_file": ca}
        authorization = stage.authorization_server(lesson, Path(state) / "auth.db", **development_host)
        stack.enter_context(stage.serving((authorization, lesson_port)))
        (naive,) = started.wait_until_healthy()

        print("1. An authorization server that fetches any client_id URL (labs/metadata_ssrf/vulnerable.py):")
        read = [report(naive, service, service.url, "the internal URL")]
        read += [report(naive, service, site.url, "an https URL that redirects there")]
        stage.verdict("the attacker read the internal service's secret, both ways" if all(read) else None)
        print("2. Lesson 03's authorization server (auth_server/optional/cimd.py, MetadataDocuments):")
        read = [report(lesson, service, service.url.replace("http://", "https://"), "the internal URL")]
        read += [report(lesson, service, site.url, "an https URL that redirects there")]
        stage.verdict(
            "the server fetched the internal service" if any(read) else None,
            "the fence around metadata documents (auth_server/optional/cimd.py)",
            "the internal service was never fetched: its address is refused, and a redirect to it is not followed",
        )
        site.http.shutdown()
    service.http.shutdown()


if __name__ == "__main__":
    main()
