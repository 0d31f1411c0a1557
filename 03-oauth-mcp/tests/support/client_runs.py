"""Lesson 03's client as an attendee runs it, `python -m 03-oauth-mcp.client --no-browser ...`, with
someone playing the user: each time it prints an authorization URL, a `consenter` answers it."""

import re
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

consent = import_module("03-oauth-mcp.tests.support.browser_user").consent
processes = import_module("03-oauth-mcp.tests.support.processes")

AUTHORIZATION_URL = re.compile(r"(https?://\S+\?\S*response_type=code\S*)")  # wherever the server authorizes


@dataclass
class ClientRun:
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    consents: list[str] = field(default_factory=list)  # where each consent redirected to


def run_client(
    url: str,
    token_file: Path,
    *args: str,
    user: tuple[str, str] = ("alice", "wonderland"),
    decision: str = "approve",
    consenter: Callable[..., str] = consent,
    callback_port: int | None = None,
) -> ClientRun:
    """Run the client against `url` to completion, consenting (as `user`) whenever it asks."""
    command = [sys.executable, "-m", f"{processes.LESSON}.client", "--url", url, "--no-browser", "--verbose"]
    command += ["--token-file", str(token_file), "--callback-port", str(callback_port or processes.free_port())]
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
