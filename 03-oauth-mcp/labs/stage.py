"""What every lesson 03 lab needs on stage: free ports, the lesson's processes, a user at a browser, and an
attacker replaying what it stole.

A deliberately vulnerable variant runs only as its lab starts it, and says what it is on stderr (variant.py).
"""

import json
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

LESSON = "03-oauth-mcp"
ROOT = Path(__file__).resolve().parents[2]
USER = ("alice", "wonderland")  # a development user the authorization server seeds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(module: str, port: int, *args: str) -> Iterator[str]:
    """`python -m MODULE --addr 127.0.0.1:PORT ...` until the block ends; yields its base URL once healthy."""
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        argv = [sys.executable, "-m", module, "--addr", f"127.0.0.1:{port}", *args]
        process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 30
            with httpx2.Client(timeout=1) as http:  # one client for every poll: a new one costs ~20 ms of CPU
                while not healthy(http, base):
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"{module} did not start: {log.read()}")
                    time.sleep(0.05)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


def healthy(http: httpx2.Client, base: str) -> bool:
    try:
        return http.get(f"{base}/healthz").status_code == 200
    except httpx2.TransportError:
        return False


def the_user_logs_in(authorization_url: str) -> str:
    """The user, in a browser: open the page (following any redirect), log in, approve.

    Returns the scope the page asked for, as the user read it.
    """
    with httpx2.Client(follow_redirects=True, timeout=10) as browser:
        page = browser.get(authorization_url)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        asked = " ".join(re.findall(r"\((journal:\w+)\)", page.text))  # what the consent page lists
        form = {**fields, "username": USER[0], "password": USER[1], "decision": "approve"}
        browser.post(str(page.url.copy_with(query=None)), data=form)  # ends on the client's callback
        return asked


async def open_in_browser(url: str) -> None:
    """A client's `open_page`: a browser is another program, it goes its own way while the client waits."""
    threading.Thread(target=the_user_logs_in, args=(url,), daemon=True).start()


def log_in(mcp_url: str, token_file: Path) -> str:
    """The user logs in to `mcp_url` with lesson 03's client; returns the access token the client kept."""
    command = [sys.executable, "-m", "03-oauth-mcp.client", "--url", mcp_url, "--no-browser"]
    command += ["--token-file", str(token_file), "--callback-port", str(free_port()), "call", "whoami"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as client:
        for line in client.stderr:
            if line.startswith("  http"):
                the_user_logs_in(line.strip())
    return json.loads(token_file.read_text())[mcp_url]["tokens"]["access_token"]


async def whoami(mcp_url: str, token: str) -> dict:
    """Call an MCP server's `whoami` with a stolen token, as any client would."""
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(mcp_url, http_client=http)) as client,
    ):
        return (await client.call_tool("whoami", {})).structured_content or {}
