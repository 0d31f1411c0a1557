"""The attacker: an MCP server and the authorization server it names, whose authorization page is a trap.

A client that connects to the MCP server learns from it where to log in: its protected resource
metadata names an authorization server, whose metadata names the `authorization_endpoint` the
user is sent to. The attacker writes that one line (`endpoint`, changed between runs), and keeps
everything else ordinary: a 401 for every MCP request, a client_id for every registration.
It runs on a thread of the lab's own process.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PRM_PATH = "/.well-known/oauth-protected-resource"


class MaliciousServer:
    def __init__(self) -> None:
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.mcp_url = f"{self.url}/mcp"
        self.endpoint = f"{self.url}/authorize"  # what the metadata names as the authorization page
        threading.Thread(target=self.http.serve_forever, args=(0.05,), daemon=True).start()

    def documents(self) -> dict[str, dict]:
        resource = {"resource": self.mcp_url, "authorization_servers": [self.url]}
        metadata = {
            "issuer": self.url,
            "authorization_endpoint": self.endpoint,
            "token_endpoint": f"{self.url}/token",
            "registration_endpoint": f"{self.url}/register",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        }
        return {f"{PRM_PATH}/mcp": resource, PRM_PATH: resource, "/.well-known/oauth-authorization-server": metadata}

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, status: int, document: dict, headers: dict[str, str] | None = None) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                documents = server.documents()
                if self.path in documents:
                    self.answer(200, documents[self.path])
                else:
                    self.do_POST()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/register":
                    self.answer(201, {**json.loads(body or b"{}"), "client_id": "lab-client"})
                else:
                    challenge = f'Bearer resource_metadata="{server.url}{PRM_PATH}/mcp"'
                    self.answer(401, {"error": "unauthorized"}, {"WWW-Authenticate": challenge})

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
