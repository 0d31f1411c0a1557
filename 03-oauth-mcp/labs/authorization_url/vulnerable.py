"""DELIBERATELY VULNERABLE: a client that sends the user to whatever authorization page it is told, through a shell.

It discovers the authorization server as an MCP client does, but reads each document as plain
JSON, with no model and no check, and opens the page the way many programs do:
`sh -c 'xdg-open "<url>"'`. The quotes keep `&` and spaces in one argument, and still let the
shell expand `$(...)` inside them. So a `javascript:` or `file:` page reaches the browser, a
plain-http page on another machine is where the user types their password, and a `$(command)` in
the URL runs as the user. The lab's browser is a program that writes down what it was handed.
Do not use it for anything but this lab.
"""

import secrets
import subprocess
from importlib import import_module
from pathlib import Path
from urllib.parse import urlencode

import httpx2

variant = import_module("03-oauth-mcp.labs.variant")

FLAW = "a client that opens whatever authorization page the metadata names, through a shell"


class ShellOpener:
    """Finds the authorization page as the metadata names it, and opens it with `opener` through `sh -c`."""

    def __init__(self, opener: Path, cwd: Path, http: httpx2.Client) -> None:
        variant.announce("authorization_url", FLAW)
        self.opener, self.cwd = opener, cwd  # the program `xdg-open` stands for; where the shell runs
        self.http = http

    def log_in(self, mcp_url: str) -> None:
        challenge = self.http.post(mcp_url, json={}).headers["www-authenticate"]
        resource = self.http.get(challenge.partition('resource_metadata="')[2].partition('"')[0]).json()
        issuer = resource["authorization_servers"][0]
        metadata = self.http.get(f"{issuer}/.well-known/oauth-authorization-server").json()
        query = {"response_type": "code", "client_id": "lab-client", "state": secrets.token_urlsafe(8)}
        url = f"{metadata['authorization_endpoint']}?{urlencode(query)}"  # as it comes: no check of any kind
        subprocess.run(["sh", "-c", f'{self.opener} "{url}"'], cwd=self.cwd, check=False)  # noqa: S607 -- the flaw


if __name__ == "__main__":
    variant.not_a_program("authorization_url", FLAW)
