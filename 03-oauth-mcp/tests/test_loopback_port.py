"""Lesson 03's client and its loopback port: it never sends the user where another program listens.

A command-line client's redirect URI is a port on 127.0.0.1, and any program on the machine may
listen on a port, first, to catch the code the browser brings back (docs/security.md lab 15). The
client listens before it sends the user anywhere (client_extras/callback_http.py `listen`): a port
another program holds stops the login there, saying why, and no page is opened. `--callback-port 0`
takes a free port for each login, which no program can hold in advance; each such login registers
its own redirect URI, again after a refresh that failed. The servers are the session's
(`parties`, their real commands on threads of the test process); the squatter is a socket of the
test's. A refused login is a real client process (its exit code and its one line are the
subject); the logins on port 0 run the client's command in this process
(support/in_process_client.py), listening on real ports.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from lesson03.tests.support import processes
from lesson03.tests.support.in_process_client import run_client


def test_a_port_another_program_holds_stops_the_login_before_the_user_is_sent(parties, tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        command = ["--url", parties.mcp_url, "--token-file", str(tmp_path / "tokens.json"), "--no-browser"]
        command += ["--callback-port", str(port), "--login-timeout", "5", "call", "whoami"]
        run = subprocess.run(
            [sys.executable, "-m", f"{processes.LESSON}.client", *command],
            cwd=processes.REPOSITORY_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "200"},
            stdin=subprocess.DEVNULL,
            check=False,
        )
        squatter.setblocking(False)
        try:
            squatter.accept()
            reached = True
        except BlockingIOError:
            reached = False
    assert run.returncode == 1, run.stderr
    assert "Open this URL" not in run.stderr  # the user is sent nowhere, not even shown the page
    assert run.stderr.strip().splitlines() == [
        f"error: authorization failed: another program holds the port of http://127.0.0.1:{port}/callback, where the "
        "browser would bring the authorization code: not sending you to log in (--callback-port 0 takes a free port)"
    ]
    assert not reached  # nothing ever came to the squatter


def test_callback_port_0_logs_in_on_a_port_of_its_own_each_time_even_after_a_failed_refresh(
    parties, tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens.json"
    first = run_client(parties.mcp_url, tokens, "--callback-port", "0", "call", "whoami")
    assert first.returncode == 0, first.stderr
    # The refresh fails (a refresh token the server never issued): the next login listens on another port,
    # which the first registration does not name; the client registers again rather than send the user to a refusal.
    logins = json.loads(tokens.read_text())
    logins[parties.mcp_url]["expires_at"] = 1
    logins[parties.mcp_url]["tokens"]["refresh_token"] = "not-one-the-server-issued"
    tokens.write_text(json.dumps(logins))
    second = run_client(parties.mcp_url, tokens, "--callback-port", "0", "call", "whoami")
    assert second.returncode == 0, second.stderr
    assert '"subject": "alice"' in second.stdout
    ports = [urlsplit(login).port for login in first.consents + second.consents]
    assert len(ports) == 2 and ports[0] != ports[1] and 0 not in ports, ports
