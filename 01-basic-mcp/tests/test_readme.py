"""Every console example of the README, run for real: each command prints what the README shows.

The README's outputs were pasted from real runs. Here each command runs again, in order and in one
shell as a reader runs them, and what it prints is compared with the README, line by line (a `…` line
stands for lines the README leaves out). An edited output fails, and so does a command that starts
printing something else. Only what changes from run to run is set aside, in both: dates, process ids,
ports, and the pydantic version in its error link (the README says so).

The shared `server` stands in for `python -m 01-basic-mcp.server --transport http`, which a reader
leaves running in a second terminal: what that command prints is the server's log, and every `8080`
is the server's port. The section "The protocol on the wire" is `test_wire.py`'s. A command that
needs what the suite does not have, or that runs these very tests, is in `NOT_RUN` with its reason.

A client command over HTTP that the README shows succeed prints only its output, the subject here:
it runs in the test process (`in_process_output`), the client's own `cli` against the shared server,
with no Python process to start. A command whose exit code, stderr or spawned stdio server the
README shows runs for real, in the shell, as does every command that is not the lesson's client.
"""

import re
import shutil

import pytest

from lesson01.tests.support import console, in_process_client, processes

README = processes.LESSON_DIR / "README.md"
TEXT = README.read_text()
ALL = console.commands(TEXT)
ON_THE_WIRE = {(c.text, c.shown) for c in console.commands(console.section(TEXT, "The protocol on the wire"))}
SERVER = "python -m 01-basic-mcp.server --transport http"  # the shared `server` is this command, running
CLIENT = f"{processes.LESSON}.client"
NOT_RUN = {  # the start of a command -> why this test does not run it
    "npx -y @modelcontextprotocol/inspector": "the Inspector needs Node 22 and the npm registry (offline by default)",
    "make test LESSON=01": "it runs these very tests",
}
COMMANDS = [c for c in ALL if (c.text, c.shown) not in ON_THE_WIRE and not c.text.startswith(tuple(NOT_RUN))]
VOLATILE = [
    (re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} "), "<date> "),
    (re.compile(r"Started server process \[\d+\]"), "Started server process [<pid>]"),
    (re.compile(r"errors\.pydantic\.dev/[\d.]+/"), "errors.pydantic.dev/<version>/"),
]


def why_not_run(command: console.Command) -> str | None:
    return next((reason for start, reason in NOT_RUN.items() if command.text.startswith(start)), None)


SKIPPED = [(command, reason) for command in ALL if (reason := why_not_run(command))]


def set_aside_volatile(lines: list[str] | tuple[str, ...], port: int | None = None) -> list[str]:
    """`lines` with what changes between runs replaced; with `port`, the server's port written as 8080."""
    if port is not None:
        lines = [re.sub(rf"(?<![\d.]){port}(?!\d)", "8080", line) for line in lines]
    for pattern, stand_in in VOLATILE:
        lines = [pattern.sub(stand_in, line) for line in lines]
    return list(lines)


def in_process_output(command: console.Command, text: str) -> list[str] | None:
    """What a client command over HTTP prints, run in this process, if the README shows only its output (no
    `error:` line, which the client writes on stderr); None for a command to run in the shell."""
    called = console.python_module(text)
    if called is None or called[0] != CLIENT or "--url" not in called[1]:
        return None
    if any(line.startswith("error: ") for line in command.shown):
        return None
    result = in_process_client.run_client(*called[1])
    return console.as_a_terminal_shows(result.stdout + result.stderr)  # stderr: none, or to fail the comparison


@pytest.fixture(scope="module")
def printed(server: processes.RunningServer) -> console.Examples:
    """What each command prints: each run when its test comes, once however often the README shows it."""
    bash = shutil.which("bash")
    if bash is None or shutil.which("curl") is None:
        pytest.skip("the README's examples need bash and curl")

    def rewrite(command: console.Command) -> str:
        return command.text.replace(":8080", f":{port(server)}")

    def server_log() -> list[str]:
        return console.as_a_terminal_shows(server.log_path.read_text())

    return console.Examples(COMMANDS, bash, processes.REPOSITORY_ROOT, rewrite, {SERVER: server_log}, in_process_output)


def port(server: processes.RunningServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def name(at: int, command: console.Command) -> str:
    return f"{at:02d} {' '.join(command.text.split()[:5])}"


@pytest.mark.parametrize("at", range(len(COMMANDS)), ids=[name(at, c) for at, c in enumerate(COMMANDS)])
def test_each_command_prints_what_the_readme_shows(
    at: int, printed: console.Examples, server: processes.RunningServer
) -> None:
    command = COMMANDS[at]
    shown = set_aside_volatile(command.shown)
    output = set_aside_volatile(printed[at], port(server))
    if command.text == SERVER:  # a server goes on printing as it serves: the README shows how it starts
        shown = [*shown, console.ELIDED]
    assert console.as_shown(shown, output) == shown, command.text


@pytest.mark.parametrize("at", range(len(SKIPPED)), ids=[name(at, c) for at, (c, _) in enumerate(SKIPPED)])
def test_a_command_not_run_here_says_why(at: int) -> None:
    """Listed, so that a run's summary shows each command of the README that no test runs, and why."""
    command, reason = SKIPPED[at]
    pytest.skip(f"{command.text.splitlines()[0]}: {reason}")


def test_every_example_is_run_here_or_in_test_wire_or_says_why_not() -> None:
    """Nothing slips through: each console command is run by one of the two tests or has a reason not to be."""
    assert len(ALL) == len(COMMANDS) + len(ON_THE_WIRE) + sum(c.text.startswith(tuple(NOT_RUN)) for c in ALL)
    for start in NOT_RUN:  # and no reason outlives the command it is for
        assert any(c.text.startswith(start) for c in ALL), start
    assert any(c.text == SERVER for c in COMMANDS)
    learner_path = console.commands(console.section(TEXT, "Learner path"))
    assert len(learner_path) >= 5 and all(c.shown for c in learner_path)  # every step's checkpoint is output
