"""Lesson 03's clients as an attendee runs them: `python -m 03-oauth-mcp.client --no-browser ...` (or
`preregistered_client`, its variant) with someone playing the user: each time it prints an
authorization URL, a `consenter` answers it; and `python -m 03-oauth-mcp.machine_client`, with no user."""

import re
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import processes
from .browser_user import consent

AUTHORIZATION_URL = re.compile(r"(https?://\S+\?\S*response_type=code\S*)")  # wherever the server authorizes


@dataclass
class ClientRun:
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    consents: list[str] = field(default_factory=list)  # where each consent redirected to


def client_arguments(url: str, token_file: Path, callback_port: int | None) -> list[str]:
    """What every run of the client here is given: the server, no browser, narrated, its own token file and port."""
    command = ["--url", url, "--no-browser", "--verbose", "--token-file", str(token_file)]
    return [*command, "--callback-port", str(callback_port or processes.free_port())]


def run_client(
    url: str,
    token_file: Path,
    *args: str,
    user: tuple[str, str] = ("alice", "wonderland"),
    decision: str = "approve",
    consenter: Callable[..., str] = consent,
    callback_port: int | None = None,
    program: str = "client",
) -> ClientRun:
    """Run the client (or `program`, a variant of it) against `url` to completion, consenting (as `user`)
    whenever it asks."""
    command = [sys.executable, "-m", f"{processes.LESSON}.{program}", *client_arguments(url, token_file, callback_port)]
    process = subprocess.Popen(
        [*command, *args],
        cwd=processes.REPOSITORY_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    run = ClientRun()
    lines: list[str] = []

    def watch_stderr() -> None:
        for line in process.stderr:
            lines.append(line)
            if match := AUTHORIZATION_URL.search(line):
                try:
                    run.consents.append(consenter(match.group(1), *user, decision=decision))
                except Exception as failure:  # the user could not answer: the client would wait minutes
                    lines.append(f"[the test's user could not consent: {failure!r}]\n")
                    process.kill()

    watcher = threading.Thread(target=watch_stderr, daemon=True)
    watcher.start()
    run.stdout = process.stdout.read()
    run.returncode = process.wait(timeout=60)
    watcher.join(timeout=10)
    run.stderr = "".join(lines)
    return run


def run_machine(url: str, *args: str) -> ClientRun:
    """Run the machine client against `url` to completion: no user, no browser, no token file."""
    done = processes.run_cli("machine_client", "--url", url, "--verbose", *args)
    return ClientRun(returncode=done.returncode, stdout=done.stdout, stderr=done.stderr)
