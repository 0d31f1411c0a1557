"""Lesson 03's command-line programs run inside the test process with typer's `CliRunner`: the same `cli`
objects `python -m 03-oauth-mcp.client` (its variants, the machine client, the administrator's commands)
run, and for the user's client the same stand-in user at the browser, without a Python process to start
for each run (about a second of CPU each, most of it importing the SDK, which this process has done).

For a test whose subject is what the program does: the login flow (what the client asks for, stores,
refreshes, refuses, and to whom it sends what), and what it prints and narrates on the way. Its HTTP goes
over real loopback connections and its callback listens on a real port, as the process's would. A test
of how a command ends as a process (an exit code and its one line of stderr for a bad command line, an
unsafe file, a port another program holds) runs the real process (`client_runs.py`, `processes.run_cli`),
and so does every test of what a process logs.

A command sets up the process as its `main` would, and this process is shared by every test, so each
run puts back what the command changes: the root logger's handlers (`configure_logging` replaces them)
and the levels it sets (the root's, the SDK's `mcp.client.auth`, Authlib's). A server running on a
thread of this process meanwhile (in_process_server.py) keeps its own log: the command's handlers go
beside the server's, and leave out what the server's threads log.
"""

import importlib
import logging
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from . import client_runs, in_process_server, processes
from .browser_user import consent
from .client_runs import AUTHORIZATION_URL, ClientRun

POLL_SECONDS = 0.02  # how often the user looks at the terminal for an authorization URL


class WatchedRunner(CliRunner):
    """A `CliRunner` whose captured stderr can be read while the command runs: the user reads the URL there."""

    def stderr_so_far(self) -> bytes:
        try:
            return self._stderr.getvalue()
        except (AttributeError, ValueError):  # not started yet, or ended: its stream closed
            return b""

    @contextmanager
    def isolation(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with super().isolation(*args, **kwargs) as streams:
            self._stderr = streams[1]  # the BytesIO under the command's sys.stderr
            yield streams


@contextmanager
def logging_put_back() -> Iterator[None]:
    """Whatever the command does to this process's logging, undone when it ends; an in-process server's
    records go to its own log meanwhile, never to the command's stderr."""
    root = logging.getLogger()
    handlers = [handler for handler in root.handlers if not in_process_server.a_servers(handler)]
    loggers = root.manager.loggerDict.items()
    levels = {name: logger.level for name, logger in loggers if isinstance(logger, logging.Logger)}
    root_level = root.level
    for handler in handlers:  # taken off, not closed: the command's basicConfig(force=True) would close them
        root.removeHandler(handler)
    try:
        with in_process_server.configured_beside_the_servers(in_process_server.NoServer()):
            yield
    finally:
        for handler in list(root.handlers):  # the command's own, writing to the runner's stderr
            if not in_process_server.a_servers(handler):
                root.removeHandler(handler)
                handler.close()
        for handler in handlers:
            root.addHandler(handler)
        for name, logger in list(root.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))
        root.setLevel(root_level)


def command_line(module: str) -> Any:
    """The typer app `python -m 03-oauth-mcp.<module>` runs: the module's `cli`, or its `__main__`'s."""
    found = importlib.import_module(f"{processes.LESSON}.{module}")
    return found.cli if hasattr(found, "cli") else importlib.import_module(f"{found.__name__}.__main__").cli


def invoke(module: str, args: list[str], env: dict[str, str] | None = None, runner: CliRunner | None = None) -> Result:
    with logging_put_back():
        return (runner or CliRunner()).invoke(
            command_line(module),
            args,
            prog_name=f"python -m {processes.LESSON}.{module}",
            env={"COLUMNS": "200", **(env or {})},
            catch_exceptions=False,  # one the command did not turn into an exit code: the test's failure
        )


def as_terminal_shows(result: Result) -> tuple[str, str]:
    """Stdout and stderr as written: CliRunner's `.stdout` would turn "\\r\\n" into "\\n"."""
    return result.stdout_bytes.decode(), result.stderr_bytes.decode()


def run_cli(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`processes.run_cli`, in this process: `python -m 03-oauth-mcp.<module> ...` to completion."""
    result = invoke(module, list(args), env)
    return subprocess.CompletedProcess([module, *args], result.exit_code, *as_terminal_shows(result))


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
    """`client_runs.run_client`, in this process: the same arguments, the same `ClientRun` back."""
    command = [*client_runs.client_arguments(url, token_file, callback_port), *args]
    return run_with_user(program, command, user=user, decision=decision, consenter=consenter)


def run_with_user(
    program: str,
    command: list[str],
    *,
    user: tuple[str, str] = ("alice", "wonderland"),
    decision: str = "approve",
    consenter: Callable[..., str] = consent,
    env: dict[str, str] | None = None,
) -> ClientRun:
    """`python -m 03-oauth-mcp.<program> COMMAND` to completion in this process, a user (`consenter`, as
    `user`) answering each authorization URL it prints, as `client_runs.run_client`'s does a process's."""
    run, runner, done = ClientRun(), WatchedRunner(), threading.Event()
    failures: list[str] = []

    def user_at_the_browser() -> None:
        answered = 0
        while not done.wait(POLL_SECONDS):
            written = runner.stderr_so_far().decode(errors="replace")
            printed = AUTHORIZATION_URL.findall(written[: written.rfind("\n") + 1])  # whole lines only
            for url in printed[answered:]:
                answered += 1
                try:
                    run.consents.append(consenter(url, *user, decision=decision))
                except Exception as failure:  # the user could not answer: the command fails on its login timeout
                    failures.append(f"[the test's user could not consent: {failure!r}]\n")

    watcher = threading.Thread(target=user_at_the_browser, daemon=True)
    watcher.start()
    try:
        result = invoke(program, command, env, runner)
    finally:
        done.set()
        watcher.join(timeout=30)
    run.returncode = result.exit_code
    run.stdout, stderr = as_terminal_shows(result)
    run.stderr = stderr + "".join(failures)
    return run


def run_machine(url: str, *args: str) -> ClientRun:
    """`client_runs.run_machine`, in this process: the machine client against `url`, no user, no token file."""
    done = run_cli("machine_client", "--url", url, "--verbose", *args)
    return ClientRun(returncode=done.returncode, stdout=done.stdout, stderr=done.stderr)
